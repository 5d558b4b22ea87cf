"""Hybrid retrieval: dense search and BM25 over the committed chunks, fused, with boosts for identifiers people
type (review names, minute numbers, abbreviations, places). Dense search is exact up to `dense_exact_max` chunks;
past that, candidates come from one-bit codes of the vectors (or the store's HNSW index) and are scored exactly.

Imports: stdlib, numpy, bm25s, core. The index is built once from the store and rebuilt only when the store's
committed state changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from assistant.binary_codes import BinaryCodes
from assistant.evidence import best_sentence_coverage
from core.embeddings import Embedder
from core.errors import EmptyKnowledgeBase
from core.glossary import Glossary
from core.store import ChunkStore
from core.text import STOPWORDS, terms
from core.types import Chunk, Filters, SearchHit

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)

RRF_K = 60
_REVIEW_NAME = re.compile(
    r"\b(?:child|family|baby)\s+([a-z]{1,2}|\d{1,3})\b(?!\s*(?:protection|death|sexual|criminal|exploitation|in|mental|safeguarding|and|with|who|is|was|are))",
    re.IGNORECASE,
)
_THEMATIC = re.compile(r"\bthematic review\b", re.IGNORECASE)
_MINUTE_NO = re.compile(r"\b(\d{1,3}\.\d{1,2})\b")
_ABBREV = re.compile(r"\b([A-Z][A-Z&]{1,6}s?)\b")
_PLACES = ("east sussex", "west sussex", "surrey", "rotherham", "essex", "sussex", "brighton")


def review_names(text: str) -> set[str]:
    """Review identifiers in a text, normalised: {'child z', 'child 4', 'thematic review'}."""
    names = set()
    for m in _REVIEW_NAME.finditer(text):
        ident = m.group(1)
        # "Child A" is a review; "a child a social worker saw" is not: a lone a/i counts only in capitals.
        if ident.lower() in ("a", "i") and not ident.isupper():
            continue
        names.add(f"{m.group(0).split()[0].lower()} {ident.lower()}")
    if _THEMATIC.search(text):
        names.add("thematic review")
    return names


_PARENT_PLACES = {"east sussex": "sussex", "west sussex": "sussex", "brighton": "sussex"}


def place_match(wanted: set[str], have: set[str]) -> bool:
    """Whether a document about `have` places is about any `wanted` place; 'Sussex' covers East and West Sussex."""
    return bool(wanted & (have | {_PARENT_PLACES[p] for p in have if p in _PARENT_PLACES}))


_KNOWN_PLACES: set[str] = set(_PLACES)
_NOT_PLACES = {"local", "national", "pan", "our", "multi", "agency", "county", "council", "partnership", "review"}
_PARTNERSHIP_PLACE = re.compile(r"^\s*([A-Z][A-Za-z&' -]{2,40}?)\s+Safeguarding (?:Children|Adults)")


def learn_places(partnerships: set[str]) -> None:
    """Add the places that partnership names start with ("Testshire Safeguarding Children Partnership")."""
    for name in partnerships:
        m = _PARTNERSHIP_PLACE.match(name)
        if not m:
            continue
        place = m.group(1).strip()
        words_ = place.split()
        # "The Safeguarding Children Partnership" names no place: every word must be a capitalised non-stopword.
        if all(w[:1].isupper() and w.lower() not in STOPWORDS and w.lower() not in _NOT_PLACES for w in words_):
            _KNOWN_PLACES.add(place.lower())


def places(text: str) -> set[str]:
    """Place names in a text. 'Sussex' alone is dropped when East or West Sussex is named."""
    low = text.lower()
    found = {p for p in _KNOWN_PLACES if re.search(rf"\b{re.escape(p)}\b", low)}
    if found & {"east sussex", "west sussex"} and not re.search(r"(?<!east )(?<!west )\bsussex\b", low):
        found.discard("sussex")
    return found


@dataclass
class _Index:
    version: str
    chunks: list[Chunk]
    embeddings: np.ndarray  # (n, dim) float32, memory-mapped from the index cache when there is one
    codes: BinaryCodes | None  # one-bit codes of the embeddings, built past the exact-search size
    bm25: bm25s.BM25 | None
    df: dict[str, int]
    position: dict[str, int]
    # Chunks grouped by the fields filters look at (doc_type, partnership, year): a filter is evaluated once per
    # group, not once per chunk, so a filtered search costs about what an unfiltered one does.
    groups: np.ndarray  # group number of each chunk
    group_heads: list[Chunk]  # one chunk of each group
    # Identifiers people type, as postings built once: name or number -> positions of the chunks that carry it.
    review_postings: dict[str, np.ndarray]
    number_postings: dict[str, np.ndarray]
    # Places come from a document's title and partnership: chunks are grouped by those, places kept per group.
    place_groups: np.ndarray
    group_places: list[set[str]]

    def filter_mask(self, filters: Filters) -> np.ndarray:
        """The chunks `filters` accepts, as a boolean mask: the same answer as Filters.accepts on each chunk."""
        accepted = np.array([filters.accepts(c) for c in self.group_heads] + [False], dtype=bool)
        return accepted[self.groups]


# A minute or section number in a chunk: "5.2" in "5.2 Budget" or "item 5.2." but not in "15.2", "5.23" or "1.5.2".
_NUMBER_IN_TEXT = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,2})(?!\d)")


def _abbreviation_terms(query: str) -> list[list[str]]:
    """The index terms of each abbreviation in a query, singular and plural: [["gp", "gps"], ["mash"]]."""
    out: dict[tuple[str, ...], None] = {}
    for a in {a.lower().rstrip("s") for a in _ABBREV.findall(query) if len(a) >= 2}:
        forms = [t[0] for t in (terms(a), terms(f"{a}s")) if len(t) == 1]
        if forms:
            out[tuple(dict.fromkeys(forms))] = None
    return [list(f) for f in out]


def _postings(keys_per_chunk: list[set[str]]) -> dict[str, np.ndarray]:
    found: dict[str, list[int]] = {}
    for i, keys in enumerate(keys_per_chunk):
        for key in keys:
            found.setdefault(key, []).append(i)
    return {k: np.asarray(v, dtype=np.int32) for k, v in found.items()}


def _build_index(
    version: str,
    chunks: list[Chunk],
    embeddings: np.ndarray,
    bm25: bm25s.BM25 | None,
    df: dict[str, int],
    codes: BinaryCodes | None,
) -> _Index:
    reviews: list[set[str]] = []
    numbers: list[set[str]] = []
    for c in chunks:
        reviews.append(review_names(c.text) | review_names(c.context))
        numbers.append(set(_NUMBER_IN_TEXT.findall(f"{c.context}\n{c.text}")))
    learn_places({c.partnership for c in chunks if c.partnership})
    place_groups, place_heads = _group(chunks, lambda c: (c.title, c.partnership))
    groups, heads = _group(chunks, lambda c: (c.doc_type, c.partnership, c.year))
    return _Index(
        version=version,
        chunks=chunks,
        embeddings=embeddings,
        codes=codes,
        bm25=bm25,
        df=df,
        position={c.chunk_id: i for i, c in enumerate(chunks)},
        groups=groups,
        group_heads=heads,
        review_postings=_postings(reviews),
        number_postings=_postings(numbers),
        place_groups=place_groups,
        group_places=[places(f"{c.title} {c.partnership}") for c in place_heads],
    )


class Retriever:
    """Hybrid search. `fusion="weighted"` combines normalised dense and BM25 scores (measured better on the dev
    set than reciprocal-rank fusion, which stays available as `fusion="rrf"`); the top `rerank_depth` are then
    reranked by how much of the question their best sentence covers."""

    def __init__(
        self,
        *,
        store: ChunkStore,
        embedder: Embedder,
        glossary: Glossary,
        dense_exact_max: int = 30_000,
        dense_candidates: int = 2000,
        dense_index: str = "binary",
        fusion: str = "weighted",
        dense_weight: float = 0.35,
        rerank_depth: int = 30,
        rerank_weight: float = 0.5,
        home_partnership: str = "",
        background_rebuild_s: float = 5.0,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.glossary = glossary
        self.dense_exact_max = dense_exact_max
        self.dense_candidates = dense_candidates
        if dense_index not in ("binary", "hnsw"):
            raise ValueError(f"dense_index must be 'binary' or 'hnsw', not {dense_index!r}")
        self.dense_index = dense_index
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.rerank_depth = rerank_depth
        self.rerank_weight = rerank_weight
        self.home_partnership_name = home_partnership.strip()
        self.home_partnership = self.home_partnership_name.lower()
        self.background_rebuild_s = background_rebuild_s
        self._index: _Index | None = None
        self._lock = threading.Lock()  # held by whoever is building; a background build releases it when done
        self._last_build_s = 0.0
        self._successors: tuple[str, dict[str, set[str]]] = ("", {})

    # ---- index lifecycle -------------------------------------------------------------------------------------
    def refresh(self, *, force: bool = False, wait: bool = True) -> bool:
        """Rebuild the in-memory index if the store changed. Returns True when this call rebuilt it.

        The version check is one small read, whatever the corpus size. The BM25 index is kept under the store's
        cache folder keyed by the store version, so a new process (or another API worker) loads it instead of
        tokenising the whole corpus again.

        With wait=False (what requests use), once an index exists and its last build took at least
        `background_rebuild_s`, the rebuild runs in a background thread and requests keep using the index they
        have: answers come from the previous state of the store until the new index is ready, instead of every
        request waiting minutes on a large corpus. A quicker build (a partnership's own documents) is waited for,
        so an answer right after an ingest already sees it.
        """
        version = self.store.version()
        if not force and self._index is not None and self._index.version == version:
            return False
        if not (wait or force) and self._index is not None and self._last_build_s >= self.background_rebuild_s:
            if self._lock.acquire(blocking=False):  # else a rebuild is already under way
                threading.Thread(target=self._build_in_background, name="pka-index-rebuild", daemon=True).start()
            return False
        with self._lock:
            if not force and self._index is not None and self._index.version == version:
                return False  # another request rebuilt it while this one waited
            self._build(version)
        return True

    def _build_in_background(self) -> None:
        try:
            self._build(self.store.version())
        except Exception:  # the current index keeps serving and the next request tries again
            log.exception("rebuilding the retrieval index in the background failed")
        finally:
            self._lock.release()

    def _build(self, version: str) -> None:
        """Build the index of the store's committed state (the caller holds the lock)."""
        started = time.perf_counter()
        cache = _IndexCache(getattr(self.store, "cache_dir", None), version)
        # With a usable cache the vectors come from its file; without one they come with the chunks.
        loaded = self.store.load_all(embeddings=not cache.complete())
        chunks = loaded.chunks
        vectors: np.ndarray = loaded.embeddings
        bm25 = None
        df: dict[str, int] = {}
        if chunks:
            ids = [c.chunk_id for c in chunks]
            ids_key = hashlib.blake2b("\n".join(ids).encode(), digest_size=16).hexdigest()
            got = cache.load(ids_key)
            if got is not None:
                bm25, df, vectors = got
            else:
                if vectors.shape[0] != len(chunks):  # the cache was there but not for these chunks
                    vectors = self.store.embeddings_of(ids)
                tokenised = [terms(f"{c.context}\n{c.text}") or ["_"] for c in chunks]
                for toks in tokenised:
                    for t in set(toks):
                        df[t] = df.get(t, 0) + 1
                bm25 = bm25s.BM25()
                bm25.index(tokenised, show_progress=False)
                del tokenised
                vectors = cache.save(bm25, df, vectors, ids_key)
        del loaded
        codes = None
        if self.dense_index == "binary" and len(chunks) > self.dense_exact_max and _codable(vectors, len(chunks)):
            codes = BinaryCodes.build(vectors)
        self._index = _build_index(version, chunks, vectors, bm25, df, codes)
        self._last_build_s = time.perf_counter() - started
        log.info("retrieval index built: %d chunks in %.1f s", len(chunks), self._last_build_s)

    @property
    def version(self) -> str:
        """The store version the in-memory index was built from."""
        if self._index is None:
            self.refresh()
        assert self._index is not None  # refresh() always sets it
        return self._index.version

    @property
    def chunks(self) -> list[Chunk]:
        if self._index is None:
            self.refresh()
        assert self._index is not None  # refresh() always sets it
        return self._index.chunks

    def idf(self, term: str) -> float:
        index = self._index
        if index is None:
            return 1.0
        n, df = len(index.chunks), index.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def next_chunk(self, chunk: Chunk) -> Chunk | None:
        """The chunk that follows this one in its document, if any."""
        index = self._index
        if index is None:
            return None
        pos = index.position.get(chunk.chunk_id)
        if pos is None or pos + 1 >= len(index.chunks):
            return None
        nxt = index.chunks[pos + 1]
        return nxt if nxt.doc_id == chunk.doc_id else None

    def chunk_by_id(self, chunk_id: str) -> Chunk | None:
        chunks = self.chunks  # builds the index if needed
        assert self._index is not None  # for mypy: the line above sets it
        pos = self._index.position.get(chunk_id)
        return chunks[pos] if pos is not None else None

    # ---- search ----------------------------------------------------------------------------------------------
    def search(self, query: str, *, top_k: int = 5, filters: Filters | None = None) -> list[SearchHit]:
        if self._index is None:
            self.refresh()
        index = self._index
        assert index is not None  # refresh() always sets it
        n = len(index.chunks)
        if n == 0 or index.bm25 is None:
            raise EmptyKnowledgeBase()
        mask = np.ones(n, dtype=bool)
        filtered = filters is not None and not filters.is_empty()
        if filters is not None and filtered:
            mask = index.filter_mask(filters)
            if not mask.any():
                return []
        expansion = self.glossary.expand(query)
        vector = self.embedder.embed_query(f"{query} {expansion}".strip())
        dense = self.dense_scores_of(vector, index, mask if filtered else None)
        q_terms = terms(query)
        x_terms = [t for t in terms(expansion) if t not in q_terms]
        sparse = np.asarray(index.bm25.get_scores(q_terms), dtype=np.float32) if q_terms else np.zeros(n, np.float32)
        if x_terms:
            sparse = sparse + 0.5 * np.asarray(index.bm25.get_scores(x_terms), dtype=np.float32)
        boosts = self._boosts(query, index)
        if self.fusion == "rrf":
            fused = _rrf(dense, mask) + _rrf(sparse, mask) + boosts / (RRF_K + 1)
        else:
            a = self.dense_weight
            fused = a * _norm(dense, mask) + (1 - a) * _norm(sparse, mask) + 0.2 * boosts
        fused[~mask] = -np.inf
        k = min(top_k, int(mask.sum()))
        order = _top(fused, max(k, self.rerank_depth))
        if self.rerank_weight and len(order) > 1:
            fused = fused.copy()
            alts = self.glossary.alternatives(query)
            q_unique = list(dict.fromkeys(q_terms))
            for i in order:
                c = index.chunks[i]
                fused[i] += self.rerank_weight * best_sentence_coverage(
                    c.text, f"{c.context} {c.partnership}", q_unique, self.idf, alts
                )
            order = order[np.argsort(-fused[order], kind="stable")]
        order = self._current_first(order, index)[:k]
        if index.embeddings.shape[0] == n:  # each hit's own similarity, also where dense search only estimated it
            rows = np.sort(order)  # sorted: memory-mapped rows read in order
            own = dict(zip(rows.tolist(), (index.embeddings[rows] @ vector).tolist(), strict=True))
        else:
            own = {int(i): float(dense[i]) for i in order}
        return [
            SearchHit(chunk=index.chunks[i], score=float(fused[i]), rank=r + 1, dense=own[int(i)])
            for r, i in enumerate(order)
        ]

    def dense_scores_of(self, vector: np.ndarray, index: _Index, mask: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of the query vector to the chunks the mask allows (-1 for those it leaves out). Exact when
        at most dense_exact_max chunks are allowed (a selective filter on a large corpus included); past that,
        the `dense_candidates` closest by one-bit code (or, with dense_index="hnsw", the store's HNSW index) are
        scored exactly, and every other allowed chunk gets the median similarity of a fixed sample of allowed
        chunks: what fusion, which scales by the median, would have seen from an exact search."""
        n = len(index.chunks)
        have_vectors = index.embeddings.shape[0] == n
        allowed = None
        if mask is None:
            if have_vectors and n <= self.dense_exact_max:
                return np.asarray(index.embeddings @ vector, dtype=np.float32)
        else:
            allowed = np.flatnonzero(mask)
            if have_vectors and len(allowed) <= self.dense_exact_max:
                scores = np.full(n, -1.0, dtype=np.float32)
                if len(allowed) * 8 > n:  # gathering many scattered rows costs more than one pass over all
                    scores[allowed] = (index.embeddings @ vector)[allowed]
                else:
                    scores[allowed] = index.embeddings[allowed] @ vector
                return scores
        scores = np.full(n, -1.0, dtype=np.float32)
        if have_vectors:
            scores[allowed if allowed is not None else slice(None)] = _typical(index.embeddings, vector, allowed)
        if index.codes is not None:  # built only over a full set of vectors
            found = np.sort(index.codes.candidates(vector, self.dense_candidates, mask))  # sorted: mmap reads in order
            scores[found] = index.embeddings[found] @ vector
            return scores
        for cid, sim in self.store.query(vector, self.dense_candidates):
            i = index.position.get(cid)
            if i is not None and (mask is None or mask[i]):
                scores[i] = sim
        return scores

    def _boosts(self, query: str, index: _Index) -> np.ndarray:
        """Exact identifiers in the query lift the chunks that carry them. Every lookup goes through postings or
        groups built with the index, so no per-chunk Python runs per query."""
        n = len(index.chunks)
        boost = np.zeros(n, dtype=np.float32)
        unit = 1.0  # one exact identifier match
        named = [index.review_postings[r] for r in review_names(query) if r in index.review_postings]
        if named:
            boost[np.unique(np.concatenate(named))] += 1.5 * unit  # naming several wanted reviews counts once
        for number in dict.fromkeys(_MINUTE_NO.findall(query)):
            hit = index.number_postings.get(number)
            if hit is not None:
                boost[hit] += unit
        if index.bm25 is not None:
            # An abbreviation counts where it, or its plural, is one of the chunk's index terms ("GP", "GPs").
            for forms in _abbreviation_terms(query):
                boost[np.asarray(index.bm25.get_scores(forms)) > 0] += 0.3 * unit
        wanted_places = places(query)
        if wanted_places:
            per_group = np.array(
                [0.8 if place_match(wanted_places, have) else -0.8 if have else 0.0 for have in index.group_places],
                dtype=np.float32,
            )
            boost += per_group[index.place_groups] * unit
        elif self.home_partnership:
            home = np.array([self.is_home(c) for c in index.group_heads] + [False], dtype=bool)
            boost[home[index.groups]] += 0.5 * unit
        return boost

    def successors(self) -> dict[str, set[str]]:
        """Replaced document id -> the documents whose manifest entries say they replace it (per store version)."""
        version = self.version
        if self._successors[0] != version:
            out: dict[str, set[str]] = {}
            for record in self.store.document_records().values():
                for old in (d.strip() for d in record.meta.supersedes.split(",")):
                    if old:
                        out.setdefault(old, set()).add(record.doc_id)
            self._successors = (version, out)
        return self._successors[1]

    def superseded(self) -> set[str]:
        return set(self.successors())

    def _current_first(self, order: np.ndarray, index: _Index) -> np.ndarray:
        """A replaced document's passages rank after the passages of what replaced it, when both were found; when
        its replacement says nothing on the question, the old document still answers."""
        successors = self.successors()
        if not successors:
            return order
        found = {index.chunks[i].doc_id for i in order}
        demoted = {i for i in order if successors.get(index.chunks[i].doc_id, set()) & found}
        kept = [i for i in order if i not in demoted] + [i for i in order if i in demoted]
        return np.array(kept, dtype=order.dtype)

    def is_current(self, chunk: Chunk) -> bool:
        """False for chunks of a document that another document's manifest entry replaces."""
        return chunk.doc_id not in self.superseded()

    def is_home(self, chunk: Chunk) -> bool:
        """Whether the chunk comes from the partnership this deployment serves."""
        return self.is_home_partnership(chunk.partnership)

    def is_home_partnership(self, partnership: str) -> bool:
        return bool(self.home_partnership) and partnership.strip().lower() == self.home_partnership


def _typical(vectors: np.ndarray, vector: np.ndarray, allowed: np.ndarray | None, sample: int = 1024) -> float:
    """The median similarity of `vector` to about `sample` of the `allowed` rows (all rows when None), spread
    evenly through the corpus."""
    if allowed is None:
        rows = np.arange(0, vectors.shape[0], max(1, vectors.shape[0] // sample))
    else:
        rows = allowed[:: max(1, len(allowed) // sample)]
    return float(np.median(vectors[rows] @ vector)) if len(rows) else -1.0


def _codable(vectors: np.ndarray, n: int) -> bool:
    return vectors.ndim == 2 and vectors.shape[0] == n and n > 0 and vectors.shape[1] % 64 == 0


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first; ties keep position order (as a stable sort would)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    cut = -np.partition(-scores, k - 1)[k - 1]
    if cut == -np.inf:  # fewer than k allowed chunks: all of them, then excluded ones in position order
        finite = np.flatnonzero(scores > -np.inf)
        rest = np.flatnonzero(scores == -np.inf)[: k - len(finite)]
        return np.concatenate([finite[np.argsort(-scores[finite], kind="stable")], rest])
    # everything tied with the k-th score competes by position, as in a stable full sort
    pool = np.flatnonzero(scores >= cut)
    return pool[np.argsort(-scores[pool], kind="stable")][:k]


def _norm(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scale scores so the median allowed chunk is 0 and the best is 1 (below the median clips to 0)."""
    allowed = scores[mask]
    if allowed.size == 0:
        return np.zeros_like(scores)
    lo, hi = float(np.median(allowed)), float(allowed.max())
    return np.clip((scores - lo) / (hi - lo + 1e-9), 0.0, None).astype(np.float32)


def _rrf(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion term for one ranking, counted only over chunks the filters allow."""
    masked = np.where(mask, scores, -np.inf)
    order = np.argsort(-masked, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[order] = np.arange(1, len(scores) + 1, dtype=np.float32)
    return (1.0 / (RRF_K + ranks)).astype(np.float32)


def _group(chunks: list[Chunk], key_of: Callable[[Chunk], tuple]) -> tuple[np.ndarray, list[Chunk]]:
    """Each chunk's group number under `key_of`, and the first chunk of each group."""
    codes: dict[tuple, int] = {}
    heads: list[Chunk] = []
    groups = np.empty(len(chunks), dtype=np.int32)
    for i, c in enumerate(chunks):
        key = key_of(c)
        g = codes.get(key)
        if g is None:
            g = codes[key] = len(heads)
            heads.append(c)
        groups[i] = g
    return groups, heads


class _IndexCache:
    """What the retriever derives from a committed store state, on disk in a folder named by the store version: the
    BM25 index, document frequencies and the chunk vectors (memory-mapped, so API workers share one copy in the
    page cache). The ordered chunk ids' fingerprint is checked on load, so an index built while the store changed
    under it is never reused."""

    keep = 2  # newest folders kept; older ones are deleted

    def __init__(self, root: Path | None, version: str) -> None:
        self.root = root
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", version)[:64]
        self.path = root / f"index-{safe}" if root is not None else None

    def complete(self) -> bool:
        return self.path is not None and (self.path / "ids.key").exists()

    def load(self, ids_key: str) -> tuple[bm25s.BM25, dict[str, int], np.ndarray] | None:
        if self.path is None or not self.complete():
            return None
        try:
            if (self.path / "ids.key").read_text() != ids_key:
                return None
            bm25 = bm25s.BM25.load(str(self.path), show_progress=False, verbosity=0)
            df = json.loads((self.path / "df.json").read_text())
            vectors = np.load(self.path / "vectors.npy", mmap_mode="r")
        except Exception as exc:  # a damaged cache is rebuilt, never fatal
            log.warning("index cache at %s not usable (%s); rebuilding", self.path, exc)
            return None
        log.info("retrieval index loaded from %s", self.path)
        return bm25, {str(k): int(v) for k, v in df.items()}, vectors

    def save(self, bm25: bm25s.BM25, df: dict[str, int], vectors: np.ndarray, ids_key: str) -> np.ndarray:
        """Write the folder; return the vectors memory-mapped from it (or as given, when it cannot be written)."""
        if self.path is None or self.root is None:
            return vectors
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=self.root))
            bm25.save(str(tmp), show_progress=False)
            (tmp / "df.json").write_text(json.dumps(df))
            np.save(tmp / "vectors.npy", np.asarray(vectors, dtype=np.float32))
            (tmp / "ids.key").write_text(ids_key)  # written last: its presence means the folder is complete
            if self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
            os.replace(tmp, self.path)
            folders = sorted(self.root.glob("index-*"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in folders[self.keep :]:
                shutil.rmtree(old, ignore_errors=True)
            for left in [*self.root.glob(".index-*"), *self.root.glob("bm25-*"), *self.root.glob(".bm25-*")]:
                if left.name.startswith("bm25-") or time.time() - left.stat().st_mtime > 3600:
                    shutil.rmtree(left, ignore_errors=True)  # an older layout's folders, or a crashed write's
            return np.load(self.path / "vectors.npy", mmap_mode="r")
        except OSError as exc:  # a read-only or full disk costs a rebuild next start, nothing more
            log.warning("could not save the retrieval index under %s: %s", self.root, exc)
            return vectors
