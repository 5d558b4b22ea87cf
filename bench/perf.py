"""Scale benchmarks: ingest throughput against bare embedding, and query latency and ANN recall at size.

    pka bench ingest --chunks 10000      # real model: synthetic corpus -> ingest, re-ingest, bare embedding
    pka bench query --chunks 100000      # store filled with precomputed embeddings -> /search and /ask latency

Corpora come from evals/synthetic.py (`mode="recycle"`: real sentences of knowledge/ with other names, places and
figures). `ingest` embeds with the configured model and keeps the embeddings it made (data/bench-cache/) for
`query`, which writes chunks straight through ChunkStore.write_documents with those real embeddings, reused with
a small random perturbation once there are more chunks than real embeddings (it says how many were real). Each
command prints a Markdown table and, with --out, writes it to a file (bench/results/*.md).
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from evals.metrics import percentile

T = TypeVar("T")  # what one search returns

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "data" / "bench-cache"

QUESTIONS = [
    "What did the Child Q rapid review teach?",
    "How many rapid reviews were held last year?",
    "Who chairs the safeguarding partnership board?",
    "What is the MASH and what does it do?",
    "How do I escalate a professional disagreement?",
    "What are the partnership's priorities?",
    "What does the neglect strategy say about early help?",
    "How long do young people stay on MACE?",
    "What training did the partnership deliver?",
    "What should a practitioner do if a baby is bruised?",
    "What did the annual report say about domestic abuse?",
    "How is the voice of the child heard in assessments?",
    "What happened at the board meeting about the budget?",
    "What is the threshold for a child protection conference?",
    "What did the scrutiny committee decide about audits?",
    "How many referrals did children's social care receive?",
    "What is the policy on drones over playgrounds?",
    "Which agencies attend the strategy discussion?",
    "What was learned about information sharing between agencies?",
    "What does the partnership do about exploitation of teenagers?",
]


# ---- measuring ---------------------------------------------------------------------------------------------
def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(path: Path) -> float:
    total = 0
    for p in path.rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                total += p.stat().st_size
    return total / (1024 * 1024)


def nearest_rank(values: list[float], p: float) -> float:
    return percentile(values, p, method="inverted_cdf") if values else float("nan")


@dataclass
class Timings:
    name: str
    ms: list[float] = field(default_factory=list)

    def row(self, note: str = "") -> str:
        return (
            f"| {self.name} | {len(self.ms)} | {nearest_rank(self.ms, 50):.1f} | {nearest_rank(self.ms, 95):.1f} | "
            f"{nearest_rank(self.ms, 99):.1f} | {note} |"
        )


def machine() -> str:
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


# ---- corpora -----------------------------------------------------------------------------------------------
def source_texts(knowledge: Path) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(knowledge.glob("*")) if p.suffix in (".txt", ".md")]


def settings_for(workdir: Path, *, hashing: bool, **extra: Any):  # core.config.Settings
    from core.config import Settings

    return Settings(
        knowledge_dir=workdir / "knowledge",
        data_dir=workdir / "data",
        embedding_backend="hashing" if hashing else "sentence-transformers",
        _env_file=None,
        **extra,
    )


def synthetic_documents(n_chunks: int, settings, *, seed: int = 7) -> Iterator[tuple[str, str, tuple[Any, list[Any]]]]:
    """(file name, text, chunks) of synthetic documents until they make at least `n_chunks` chunks."""
    from evals.synthetic import generate
    from ingest.chunker import chunk_document
    from ingest.discover import SourceFile
    from ingest.pipeline import build_document

    texts = source_texts(ROOT / "knowledge")
    total = 0
    # generate() is a generator: ask for far more documents than needed and stop once there are enough chunks
    for doc in generate(texts, n_docs=10**7, seed=seed, mode="recycle"):
        data = doc.text.encode()
        document = build_document(SourceFile(Path(doc.name), doc.name, len(data)), data, {}, settings)
        chunks = chunk_document(document, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
        yield doc.name, doc.text, (document, chunks)
        total += len(chunks)
        if total >= n_chunks:
            return


def write_corpus(folder: Path, n_chunks: int, settings) -> tuple[int, list[str]]:
    """Write the synthetic files; return how many, and the texts the ingest will embed (context + text)."""
    folder.mkdir(parents=True, exist_ok=True)
    docs = 0
    texts: list[str] = []
    for name, text, (_document, doc_chunks) in synthetic_documents(n_chunks, settings):
        (folder / name).write_text(text, encoding="utf-8")
        docs += 1
        texts.extend(f"{c.context}\n{c.text}" for c in doc_chunks)
    return docs, texts


def _cache_file(model_id: str) -> Path:
    return CACHE / f"embeddings-{model_id.replace('/', '_')}.npy"


# ---- ingest ------------------------------------------------------------------------------------------------
@dataclass
class IngestResult:
    chunks: int
    docs: int
    first: dict[str, float]
    first_wall: float
    reingest_wall: float
    bare_s: float
    bare_before: float
    bare_after: float
    disk_mb: float
    peak_mb: float
    model: str
    batch: int
    workers: int

    @property
    def ingest_rate(self) -> float:
        return self.chunks / self.first_wall

    @property
    def bare_rate(self) -> float:
        return self.chunks / self.bare_s

    def markdown(self) -> str:
        s = self.first
        return "\n".join(
            [
                f"## Ingest: {self.chunks:,} chunks in {self.docs:,} synthetic documents",
                "",
                f"Model `{self.model}`; PKA_INGEST_BATCH_CHUNKS={self.batch}, PKA_INGEST_PARSE_WORKERS={self.workers}; "
                f"{machine()}.",
                "",
                "| measure | value |",
                "| --- | ---: |",
                f"| first ingest, wall | {self.first_wall:.1f} s |",
                f"| first ingest throughput | {self.ingest_rate:.1f} chunks/s |",
                f"| &nbsp; parse (threads, overlapping embed) | {s['parse']:.1f} s |",
                f"| &nbsp; chunk (threads, overlapping embed) | {s['chunk']:.1f} s |",
                f"| &nbsp; embed (main thread) | {s['embed']:.1f} s |",
                f"| &nbsp; store (main thread) | {s['store']:.1f} s |",
                f"| bare embedding of the same texts (mean of before: {self.bare_before:.1f} s, after: "
                f"{self.bare_after:.1f} s) | {self.bare_s:.1f} s = {self.bare_rate:.1f} chunks/s |",
                f"| ingest / bare throughput | {self.ingest_rate / self.bare_rate:.0%} |",
                f"| re-ingest, unchanged corpus | {self.reingest_wall:.2f} s = "
                f"{self.reingest_wall / self.first_wall:.1%} of the first |",
                f"| on disk (Chroma store) | {self.disk_mb:.0f} MB |",
                f"| peak RSS of the process | {self.peak_mb:.0f} MB |",
                "",
            ]
        )


def bench_ingest(n_chunks: int, *, hashing: bool = False, workdir: Path | None = None) -> IngestResult:
    from core.embeddings import build_embedder
    from core.store import open_store
    from ingest.pipeline import ingest_corpus

    with _workdir(workdir) as wd:
        settings = settings_for(wd, hashing=hashing)
        docs, texts = write_corpus(settings.knowledge_dir, n_chunks, settings)
        embedder = build_embedder(settings)
        embedder.embed_documents(["warm up the model"] * 8)
        # Bare embedding of the same texts right before and right after the ingest: on a shared machine the load
        # changes over minutes, and the ingest is compared with the mean of the two.
        t0 = time.perf_counter()
        embedder.embed_documents(texts)
        bare_before = time.perf_counter() - t0
        store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
        t0 = time.perf_counter()
        first = ingest_corpus(settings, embedder=embedder, store=store)
        first_wall = time.perf_counter() - t0
        if not first.ok:
            raise RuntimeError(f"ingest failed: {first.failed[:3]}")
        t0 = time.perf_counter()
        again = ingest_corpus(settings, embedder=embedder, store=store)
        reingest_wall = time.perf_counter() - t0
        assert again.chunks_written == 0, "re-ingest of an unchanged corpus wrote chunks"
        gc.collect()
        t0 = time.perf_counter()
        embedder.embed_documents(texts)
        bare_after = time.perf_counter() - t0
        bare_s = (bare_before + bare_after) / 2
        cache = _cache_file(embedder.model_id)
        if not hashing and (not cache.exists() or len(np.load(cache, mmap_mode="r")) < first.chunks_written):
            CACHE.mkdir(parents=True, exist_ok=True)  # keep the real embeddings for the query benchmark
            np.save(cache, store.load_all().embeddings.astype(np.float32))
        return IngestResult(
            chunks=first.chunks_written,
            docs=docs,
            first=dict(first.seconds),
            first_wall=first_wall,
            reingest_wall=reingest_wall,
            bare_s=bare_s,
            bare_before=bare_before,
            bare_after=bare_after,
            disk_mb=disk_mb(settings.chroma_path),
            peak_mb=peak_rss_mb(),
            model=embedder.model_id,
            batch=settings.ingest_batch_chunks,
            workers=settings.ingest_parse_workers,
        )


@contextlib.contextmanager
def _workdir(workdir: Path | None, *, keep: bool = False) -> Iterator[Path]:
    if workdir is not None:
        if workdir.exists() and not keep:
            from core.store import forget_clients

            forget_clients()  # this process may hold the old store open
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="pka-bench-") as tmp:
        yield Path(tmp)


# ---- query -------------------------------------------------------------------------------------------------
def realistic_embeddings(n: int, base: np.ndarray, *, seed: int = 11, noise: float = 0.35) -> np.ndarray:
    """`n` unit vectors: the real ones first, then real ones reused with Gaussian noise (about cos 0.94 to the
    original at the default noise), so the neighbourhood structure stays that of real text."""
    rng = np.random.default_rng(seed)
    if n <= len(base):
        return base[:n].astype(np.float32)
    extra = base[rng.integers(0, len(base), n - len(base))]
    extra = extra + rng.normal(0, noise / np.sqrt(base.shape[1]), extra.shape).astype(np.float32)
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    return np.concatenate([base, extra.astype(np.float32)])


@dataclass
class Filled:
    docs: int
    seconds: float
    ids: list[str]  # the chunk ids written, in the order of `vectors`
    vectors: np.ndarray


def fill_store(store, n_chunks: int, base: np.ndarray, settings) -> Filled:
    """Write `n_chunks` synthetic chunks with precomputed embeddings through ChunkStore.write_documents."""
    from core.store import DocumentWrite

    vectors = realistic_embeddings(n_chunks, base)
    ids: list[str] = []
    pending: list = []
    pending_n = written = docs = 0
    seconds = 0.0
    for name, _text, (document, chunks) in synthetic_documents(n_chunks, settings):
        take = min(len(chunks), n_chunks - written - pending_n)
        chunks = chunks[:take]
        ids.extend(c.chunk_id for c in chunks)
        lo = written + pending_n
        pending.append(DocumentWrite(document, chunks, vectors[lo : lo + take], file_hash=name, signature="bench"))
        pending_n += take
        docs += 1
        if pending_n >= 5000:
            t0 = time.perf_counter()
            store.write_documents(pending)
            seconds += time.perf_counter() - t0
            written += pending_n
            pending, pending_n = [], 0
    if pending:
        t0 = time.perf_counter()
        store.write_documents(pending)
        seconds += time.perf_counter() - t0
        written += pending_n
    return Filled(docs, seconds, ids, vectors)


def exact_tenth(truth: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Each query's 10th-best similarity by exact search, in blocks so a 1M-row matrix is read once per block."""
    out = np.empty(len(queries), dtype=np.float32)
    for lo in range(0, len(queries), 32):
        sims = truth @ queries[lo : lo + 32].T  # (n, block)
        out[lo : lo + 32] = -np.partition(-sims, 9, axis=0)[9]
    return out


def _keep(wd: Path, filled: Filled, n_chunks: int) -> None:
    np.save(wd / "bench-vectors.npy", filled.vectors)
    (wd / "bench-ids.txt").write_text("\n".join(filled.ids), encoding="utf-8")
    marker = {"chunks": n_chunks, "docs": filled.docs, "seconds": filled.seconds}
    (wd / "bench-filled.json").write_text(json.dumps(marker), encoding="utf-8")  # last: the folder is complete


def _reused(wd: Path, n_chunks: int) -> Filled | None:
    marker = wd / "bench-filled.json"
    if not marker.exists():
        return None
    meta = json.loads(marker.read_text(encoding="utf-8"))
    if meta.get("chunks") != n_chunks:
        return None
    ids = (wd / "bench-ids.txt").read_text(encoding="utf-8").split("\n")
    return Filled(int(meta["docs"]), float(meta["seconds"]), ids, np.load(wd / "bench-vectors.npy", mmap_mode="r"))


def recall_at_10(
    search: Callable[[np.ndarray], T],
    top10: Callable[[T], list[int] | np.ndarray],
    truth: np.ndarray,
    queries: np.ndarray,
    tenth: np.ndarray,
) -> tuple[float, float]:
    """Mean recall@10 of a search against exact search, and the p95 of `search` in ms. `top10` turns what a search
    returned into the positions of its top 10 (untimed). A position counts when it is as similar as the exact
    10th (the recycled corpus has exact duplicates: ties)."""
    hits = 0
    ms: list[float] = []
    for q, cut in zip(queries, tenth, strict=True):
        t0 = time.perf_counter()
        got = search(q)
        ms.append((time.perf_counter() - t0) * 1000)
        top = top10(got)
        if len(top):
            hits += int(((truth[top] @ q) >= cut - 1e-5).sum())
    return hits / (10 * len(queries)), nearest_rank(ms, 95)


def dense_path(settings, n: int, candidates: int) -> str:  # core.config.Settings
    """How the retriever searches vectors at `n` chunks, in words."""
    if n <= settings.dense_exact_max:
        return "exact numpy"
    if settings.dense_index == "binary":
        return f"one-bit codes, {candidates:,} candidates scored exactly"
    return f"the store's HNSW index, {candidates:,} candidates"


def interleaved(paths: dict[str, Callable[[int], object]], n: int, *, warmup: int = 2) -> dict[str, Timings]:
    """Time every path on request i before moving to request i+1, so that a shared machine's changing load falls
    on all paths alike. The order rotates with i, so no path always runs right after the same other one (a path
    that leaves threads spinning would otherwise slow only its successor)."""
    names = list(paths)
    for i in range(warmup):
        for fn in paths.values():
            fn(i)
    out = {name: Timings(name) for name in paths}
    for i in range(n):
        for j in range(len(names)):
            name = names[(i + j) % len(names)]
            t0 = time.perf_counter()
            paths[name](i)
            out[name].ms.append((time.perf_counter() - t0) * 1000)
    return out


@dataclass
class QueryResult:
    chunks: int
    docs: int
    real: int
    write_s: float
    start_cold_s: float
    start_warm_s: float
    rows: list[str]
    recall_rows: list[str]
    disk_mb: float
    peak_mb: float
    rss_mb: float
    path: str
    notes: list[str]

    def markdown(self) -> str:
        return "\n".join(
            [
                f"## Query: {self.chunks:,} chunks ({self.docs:,} synthetic documents)",
                "",
                f"{self.real:,} of the embeddings are real (the model's, of chunks of the same generator), "
                f"{self.chunks - self.real:,} are those reused with noise. Dense path: {self.path}. {machine()}.",
                "",
                f"Written through ChunkStore.write_documents in {self.write_s:.1f} s "
                f"({self.chunks / self.write_s:.0f} chunks/s); index build at process start: {self.start_cold_s:.1f} s "
                f"with BM25 built, {self.start_warm_s:.1f} s with BM25 loaded from the cache; on disk "
                f"{self.disk_mb:.0f} MB; RSS with the index built {self.rss_mb:.0f} MB "
                f"(peak of the benchmark, which also holds every vector it wrote, {self.peak_mb:.0f} MB).",
                "",
                "| path | n | p50 ms | p95 ms | p99 ms | notes |",
                "| --- | ---: | ---: | ---: | ---: | --- |",
                *self.rows,
                "",
                "| dense search (query vector given) | recall@10 vs exact | p95 ms |",
                "| --- | ---: | ---: |",
                *self.recall_rows,
                "",
                *self.notes,
                "",
            ]
        )


def bench_query(
    n_chunks: int,
    *,
    rounds: int = 5,
    hashing: bool = False,
    workdir: Path | None = None,
    ef_values: tuple[int, ...] = (),
    asks: bool = True,
    reuse: bool = False,
) -> QueryResult:
    """Latency and recall at `n_chunks`. With a workdir, the filled store and the vectors written are kept there;
    with reuse too, a store that an earlier run filled to the same size is used again instead of rewritten."""
    from assistant.service import build_retriever, build_service
    from core.embeddings import build_embedder
    from core.store import open_store
    from core.types import Filters

    reuse = reuse and workdir is not None and _reused(workdir, n_chunks) is not None  # else: start afresh
    with _workdir(workdir, keep=reuse) as wd:
        settings = settings_for(wd, hashing=hashing)
        embedder = build_embedder(settings)
        notes: list[str] = []
        cache = _cache_file(embedder.model_id)
        if not hashing and cache.exists():
            base = np.load(cache)
        else:
            # no cached real embeddings: embed up to 2,000 real chunks of the generator now
            texts = [
                f"{c.context}\n{c.text}"
                for _n, _t, (_d, cs) in synthetic_documents(min(n_chunks, 2000), settings)
                for c in cs
            ]
            base = embedder.embed_documents(texts[:2000])
        store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
        filled = _reused(wd, n_chunks) if reuse else None
        if filled is None:
            filled = fill_store(store, n_chunks, base, settings)
            if workdir is not None:
                _keep(wd, filled, n_chunks)
        else:
            notes.append(
                f"The store was written by an earlier run into the same folder ({filled.seconds:.1f} s then); "
                "this run reused it. Its derived index cache was deleted first, so the cold start is cold."
            )
            shutil.rmtree(settings.data_dir / "index", ignore_errors=True)
        docs, write_s = filled.docs, filled.seconds
        real = min(n_chunks, len(base))
        del base
        gc.collect()

        service = build_service(settings, embedder=embedder)
        # The first build tokenises the corpus and saves the BM25 index; the service's own build (a new process
        # would do the same) loads it. One index in memory at a time.
        cold_retriever = build_retriever(settings, store=service.store, embedder=embedder, glossary=service.glossary)
        t0 = time.perf_counter()
        cold_retriever.refresh()
        cold = time.perf_counter() - t0
        del cold_retriever
        gc.collect()
        t0 = time.perf_counter()
        service.retriever.refresh()
        warm = time.perf_counter() - t0
        serving_rss = rss_mb()  # the process as it would serve: store, model and index, before the bench's own data
        index = service.retriever._index
        assert index is not None
        n = len(index.chunks)
        # The vectors as written, in the index's order: the ground truth for exact search and recall.
        truth = np.zeros((n, filled.vectors.shape[1]), dtype=np.float32)
        for cid, row in zip(filled.ids, filled.vectors, strict=True):
            truth[index.position[cid]] = row
        del filled
        gc.collect()
        cand = settings.dense_candidates
        path = dense_path(settings, n, cand)

        qs = QUESTIONS
        total = rounds * len(qs)
        qvec = {q: embedder.embed_query(q) for q in qs}
        per_year = Counter(c.year for c in index.chunks if c.year)
        # the year whose chunks come closest to a tenth of the corpus: a filter as selective as a typical one
        mid = min(per_year, key=lambda y: (abs(per_year[y] / n - 0.1), y)) if per_year else 2020
        flt = Filters(year_from=mid, year_to=mid)
        share = sum(1 for c in index.chunks if flt.accepts(c)) / n
        chunks_col = store._chunks

        def q(i: int) -> str:
            return qs[i % len(qs)]

        paths: dict[str, Callable[[int], object]] = {
            "bare: embed_query + collection.query(n_results=5)": lambda i: chunks_col.query(
                query_embeddings=[embedder.embed_query(q(i))], n_results=5
            ),
            "bare: collection.query(n_results=5), query vector given": lambda i: chunks_col.query(
                query_embeddings=[qvec[q(i)]], n_results=5
            ),
            "embed_query alone": lambda i: embedder.embed_query(q(i)),
            "/search: service.search(top_k=5)": lambda i: service.search(q(i), top_k=5),
            "/search filtered: one year": lambda i: service.search(q(i), top_k=5, filters=flt),
        }
        if asks:
            paths["/ask: service.ask"] = lambda i: service.ask(q(i))
        paths["store.state() (per request)"] = lambda i: store.state()
        notes_by_path = {
            "bare: embed_query + collection.query(n_results=5)": "the vector store alone, as a bare /search would",
            "/search: service.search(top_k=5)": "hybrid: dense + BM25 + boosts + rerank",
            "/search filtered: one year": f"year={mid}: {share:.0%} of chunks pass",
            "/ask: service.ask": "search + compose",
        }
        timings = interleaved(paths, total)
        # Exact search over every vector is a reference, timed on its own: its multi-threaded BLAS call leaves
        # threads spinning that would slow whatever ran next.
        exact = "bare: exact numpy top-10, query vector given"
        timings[exact] = interleaved({exact: lambda i: np.argpartition(-(truth @ qvec[q(i)]), 10)[:10]}, total)[exact]
        rows = [t.row(notes_by_path.get(name, "")) for name, t in timings.items()]

        # Recall against exact search, on the question vectors and 100 held-out chunk vectors: first the
        # retriever's own dense search (as configured, and with half and twice the candidates), then the HNSW index
        rng = np.random.default_rng(3)
        probes = np.stack([qvec[q] for q in qs] + [truth[i] for i in rng.integers(0, n, 100)])
        tenth = exact_tenth(truth, probes)
        allowed = index.filter_mask(flt)
        tenth_filtered = exact_tenth(truth[allowed], probes)
        retriever = service.retriever
        recall_rows = []

        def dense_top10(mask: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray]:
            def search(q: np.ndarray) -> np.ndarray:  # the retriever's dense search and its top 10, as timed
                scores = retriever.dense_scores_of(q, index, mask)
                top = np.argpartition(-scores, 10)[:10]
                return top[scores[top] > -1]

            return search

        def store_top10(got: list[tuple[str, float]]) -> list[int]:
            return [index.position[cid] for cid, _ in sorted(got, key=lambda x: -x[1])[:10] if cid in index.position]

        for k in (cand // 2, cand, 2 * cand) if n > settings.dense_exact_max else (cand,):
            retriever.dense_candidates = k
            for mask, cut, what in ((None, tenth, ""), (allowed, tenth_filtered, f", filtered: year={mid}")):
                r, p95 = recall_at_10(dense_top10(mask), lambda top: top, truth, probes, cut)
                recall_rows.append(
                    f"| retriever dense search: {dense_path(settings, n, k)}{what} | {r:.3f} | {p95:.1f} |"
                )
        retriever.dense_candidates = cand
        for ef in ef_values or (settings.hnsw_ef_search,):
            store.set_ef_search(ef)
            for k, what in ((10, "a bare top 10"), (cand, "as many as the retriever's candidates")):

                def store_search(q: np.ndarray, k: int = k) -> list[tuple[str, float]]:
                    return store.query(q, min(k, n))

                r, p95 = recall_at_10(store_search, store_top10, truth, probes, tenth)
                recall_rows.append(
                    f"| HNSW store.query: ef_search={ef}, n_results={k} ({what}) | {r:.3f} | {p95:.1f} |"
                )
        store.set_ef_search(settings.hnsw_ef_search)
        result = QueryResult(
            chunks=n,
            docs=docs,
            real=real,
            write_s=write_s,
            start_cold_s=cold,
            start_warm_s=warm,
            rows=rows,
            recall_rows=recall_rows,
            disk_mb=disk_mb(settings.chroma_path),
            peak_mb=peak_rss_mb(),
            rss_mb=serving_rss,
            path=path,
            notes=notes,
        )
        return result
