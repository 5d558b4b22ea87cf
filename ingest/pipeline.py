"""The ingest run: discover → parse → clean → chunk → embed → store, idempotently.

Threads read, parse and chunk files ahead while the main thread embeds; chunks are
embedded and written in large batches across files (PKA_INGEST_BATCH_CHUNKS), each document still committed on its
own (see ChunkStore.write_documents). A bad file is reported by name and skipped; nothing else is lost. An OS lock on a
file in the data folder refuses a second concurrent run.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from core.config import Settings
from core.embeddings import Embedder
from core.errors import IngestLocked, ParseError, StoreUnavailable
from core.flagging import FLAGGER_VERSION, flag_chunks
from core.store import ChunkStore, DocumentRecord, DocumentWrite
from core.types import Chunk, Document, Span
from ingest.chunker import chunk_document, signature
from ingest.clean import clean_text
from ingest.discover import SourceFile, discover, file_hash, infer_meta, load_manifest
from ingest.parsers import parse_bytes

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    files: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    chunks_written: int = 0
    chunks_total: int = 0
    # passages flagged as planted instructions (kept out of answers): why, per file written in this run; and how
    # many an unchanged file still holds from an earlier run
    flagged: dict[str, list[str]] = field(default_factory=dict)
    flagged_before: dict[str, int] = field(default_factory=dict)
    # set when the store refused a write (disk full, read-only): the run stopped there, each document at its last
    # committed version, and the files not yet written are in `failed`
    stopped: StoreUnavailable | None = None
    # parse and chunk: summed over the threads that do them (they overlap the embedding); embed and store: the
    # main thread's time; total: the whole run's wall-clock time.
    seconds: dict[str, float] = field(
        default_factory=lambda: {"parse": 0.0, "chunk": 0.0, "embed": 0.0, "store": 0.0, "total": 0.0}
    )

    @property
    def ok(self) -> bool:
        return not self.failed and self.stopped is None


def build_document(source: SourceFile, data: bytes, manifest_entry: dict, settings: Settings) -> Document:
    parsed = parse_bytes(source.path, data, max_pages=settings.max_pages)
    texts: list[str] = []
    spans: list[Span] = []
    pos = 0
    for number, page in enumerate(parsed.pages, start=1):
        cleaned = clean_text(page)
        if len(parsed.pages) > 1:
            spans.append(Span(kind="page", label=str(number), start=pos, end=pos + len(cleaned)))
        texts.append(cleaned)
        pos += len(cleaned) + 1
    text = "\n".join(texts)
    if not text.strip():
        raise ParseError("has no text after cleaning")
    meta = infer_meta(source.doc_id, text, parsed.title_hint, manifest_entry)
    return Document(
        doc_id=source.doc_id,
        meta=meta,
        media_type=parsed.media_type,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        spans=tuple(spans),
    )


class IngestLock:
    """An exclusive OS lock (`filelock`) on a file in the data folder: released by the OS when its process ends, so a
    crashed run never blocks the next one, and a leftover file or a reused PID means nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: FileLock | None = None

    def __enter__(self) -> IngestLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise IngestLocked(f"Another ingest is running (lock {self.path}). Wait for it to finish.") from None
        except OSError as exc:
            raise StoreUnavailable(f"Could not take the ingest lock {self.path}: {exc.strerror or exc}") from exc
        self._lock = lock
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def ingest_corpus(
    settings: Settings,
    *,
    embedder: Embedder,
    store: ChunkStore,
    path: Path | None = None,
    prune: bool = True,
    progress: Callable[[str], None] | None = None,
) -> IngestReport:
    """Bring the store in line with the files under `path` (default: the knowledge folder).

    Args:
        prune: delete documents whose files are gone. Only done when ingesting the whole knowledge folder.
        progress: called with each file's name as it is processed (for progress bars).
    """
    root = Path(path or settings.knowledge_dir)
    with IngestLock(settings.data_dir / "ingest.lock"), store.deferred_stamp():
        return _run(settings, embedder=embedder, store=store, root=root, prune=prune, progress=progress)


@dataclass
class _Prepared:
    """What a parse thread hands the main thread for one file."""

    source: SourceFile
    status: str  # "unchanged", "failed" or "ready"
    reason: str = ""
    fhash: str = ""
    document: Document | None = None
    chunks: list[Chunk] = field(default_factory=list)
    parse_s: float = 0.0
    chunk_s: float = 0.0


def _prepare(
    source: SourceFile, entry: dict, old: DocumentRecord | None, sig: str, limit: int, settings: Settings
) -> _Prepared:
    """Read, hash, parse, clean and chunk one file (in a worker thread). Never raises for a bad file."""
    if source.size > limit:
        reason = f"is {source.size / 1048576:.1f} MB, over the limit of {settings.max_file_mb:g} MB"
        return _Prepared(source, "failed", reason)
    t0 = time.perf_counter()
    try:
        data = source.path.read_bytes()
    except OSError as exc:
        return _Prepared(source, "failed", f"could not be read: {exc.strerror or exc}")
    fhash = file_hash(data + repr(sorted(entry.items())).encode())
    if old is not None and old.file_hash == fhash and old.signature == sig:
        return _Prepared(source, "unchanged", fhash=fhash)
    try:
        document = build_document(source, data, entry, settings)
    except ParseError as exc:
        return _Prepared(source, "failed", str(exc))
    except Exception as exc:  # a parser library bug must not stop the whole run
        log.exception("unexpected error parsing %s", source.doc_id)
        return _Prepared(source, "failed", f"could not be parsed ({type(exc).__name__}: {exc})")
    t1 = time.perf_counter()
    try:
        chunks = chunk_document(document, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
        chunks = flag_chunks(chunks)
    except Exception as exc:  # a chunker bug on one file must not stop the whole run
        log.exception("unexpected error chunking %s", source.doc_id)
        return _Prepared(source, "failed", f"could not be chunked ({type(exc).__name__}: {exc})")
    t2 = time.perf_counter()
    if len(chunks) > settings.max_chunks_per_file:
        reason = f"makes {len(chunks)} chunks, over the limit of {settings.max_chunks_per_file}"
        return _Prepared(source, "failed", reason)
    return _Prepared(source, "ready", fhash=fhash, document=document, chunks=chunks, parse_s=t1 - t0, chunk_s=t2 - t1)


def _ahead(pool: ThreadPoolExecutor, jobs: list, depth: int) -> Iterator[_Prepared]:
    """Results in order, keeping at most `depth` files in flight ahead of the consumer."""
    pending: deque[Future[_Prepared]] = deque()
    it = iter(jobs)
    for job in it:
        pending.append(pool.submit(_prepare, *job))
        if len(pending) >= depth:
            break
    while pending:
        result = pending.popleft().result()
        for job in it:
            pending.append(pool.submit(_prepare, *job))
            break
        yield result


def _run(
    settings: Settings,
    *,
    embedder: Embedder,
    store: ChunkStore,
    root: Path,
    prune: bool,
    progress: Callable[[str], None] | None,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    sources, skipped = discover(root)
    report.skipped.extend(skipped)
    manifest = load_manifest(root)
    records = store.document_records()
    sig = f"{signature(settings.chunk_max_chars, settings.chunk_min_chars)}:{embedder.model_id}"
    sig += f":flagger-v{FLAGGER_VERSION}"
    base = root if root.is_dir() else root.parent
    knowledge = Path(settings.knowledge_dir)
    # doc ids are relative to the knowledge folder, wherever the run was pointed
    prefix = ""
    if base.resolve() != knowledge.resolve() and base.resolve().is_relative_to(knowledge.resolve()):
        prefix = base.resolve().relative_to(knowledge.resolve()).as_posix() + "/"
    seen: set[str] = set()
    sources = [SourceFile(s.path, prefix + s.doc_id, s.size) for s in sources]
    current = {s.doc_id for s in sources}
    limit = int(settings.max_file_mb * 1024 * 1024)
    # content hash -> a document holding it (committed, or queued in this run), to skip duplicate files
    by_content: dict[str, str] = {}
    for d, r in records.items():
        if d in current:
            by_content.setdefault(r.content_hash, d)
    jobs = []
    for source in sources:
        entry = manifest.get(source.doc_id) or manifest.get(source.path.name) or {}
        jobs.append((source, entry, records.get(source.doc_id), sig, limit, settings))

    batch: list[_Prepared] = []
    batch_chunks = 0

    def flush() -> None:
        nonlocal batch, batch_chunks
        if not batch:
            return
        texts = [f"{c.context}\n{c.text}" for p in batch for c in p.chunks]
        t0 = time.perf_counter()
        vectors = embedder.embed_documents(texts)
        t1 = time.perf_counter()
        writes = []
        lo = 0
        for p in batch:
            assert p.document is not None  # "ready" results carry their document
            writes.append(DocumentWrite(p.document, p.chunks, vectors[lo : lo + len(p.chunks)], p.fhash, sig))
            lo += len(p.chunks)
        try:
            written = store.write_documents(writes)
        except StoreUnavailable as exc:
            report.stopped = exc
            report.failed.extend((p.source.doc_id, f"not stored: {exc}") for p in batch)
            batch, batch_chunks = [], 0
            return
        t2 = time.perf_counter()
        report.seconds["embed"] += t1 - t0
        report.seconds["store"] += t2 - t1
        for p, record in zip(batch, written, strict=True):
            doc_id = p.source.doc_id
            (report.updated if doc_id in records else report.added).append(doc_id)
            records[doc_id] = record
            report.chunks_written += len(p.chunks)
            report.chunks_total += len(p.chunks)
            if any(c.flag for c in p.chunks):
                report.flagged[doc_id] = [c.flag for c in p.chunks if c.flag]
            log.info("ingested %s: %d chunks", doc_id, len(p.chunks))
        batch, batch_chunks = [], 0

    workers = settings.ingest_parse_workers
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pka-parse") as pool:
        for prepared in _ahead(pool, jobs, depth=max(4, 4 * workers)):
            if report.stopped is not None:
                break
            source = prepared.source
            report.files += 1
            if progress:
                progress(source.doc_id)
            seen.add(source.doc_id)
            if prepared.status == "failed":
                report.failed.append((source.doc_id, prepared.reason))
                continue
            if prepared.status == "unchanged":
                report.unchanged.append(source.doc_id)
                report.chunks_total += records[source.doc_id].n_chunks
                if records[source.doc_id].flagged:
                    report.flagged_before[source.doc_id] = records[source.doc_id].flagged
                continue
            document = prepared.document
            assert document is not None  # "ready" results carry their document
            duplicate = by_content.get(document.content_hash)
            if duplicate is not None and duplicate != source.doc_id:
                report.skipped.append((source.doc_id, f"has the same content as {duplicate}"))
                continue
            by_content[document.content_hash] = source.doc_id
            report.seconds["parse"] += prepared.parse_s
            report.seconds["chunk"] += prepared.chunk_s
            batch.append(prepared)
            batch_chunks += len(prepared.chunks)
            if batch_chunks >= settings.ingest_batch_chunks:
                flush()
        if report.stopped is None:
            flush()
    if report.stopped is not None:
        reached = set(seen)
        report.failed.extend((s.doc_id, "not reached: the run stopped") for s in sources if s.doc_id not in reached)
        report.seconds["total"] = time.perf_counter() - started
        return report
    removed: set[str] = set()
    if prune and root.resolve() == knowledge.resolve():
        for doc_id in sorted(set(records) - seen):
            try:
                store.delete_document(doc_id)
            except StoreUnavailable as exc:  # disk full or read-only: the rest stays until the next run
                report.stopped = exc
                report.failed.append((doc_id, f"not removed: {exc}"))
                break
            report.removed.append(doc_id)
            removed.add(doc_id)
    # A file that failed this time keeps its previous good version in the store.
    for doc_id, _ in report.failed:
        if doc_id in records:
            report.chunks_total += records[doc_id].n_chunks
    # Chunks no committed record owns (an interrupted run's) make the count differ: only then is a sweep needed,
    # so re-ingesting an unchanged corpus reads no chunk at all.
    expected = sum(r.n_chunks for d, r in records.items() if d not in removed)
    if report.stopped is None and store.count() != expected:
        store.sweep()
    report.seconds["total"] = time.perf_counter() - started
    return report
