"""The ingest run: discover → parse → clean → chunk → embed → store, one document at a time, idempotently.

Imports: stdlib, core, ingest. A bad file is reported by name and skipped; nothing else is lost. A lock file in
the data folder refuses a second concurrent run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings
from core.embeddings import Embedder
from core.errors import IngestLocked, ParseError
from core.store import ChunkStore
from core.types import Document, Span
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
    seconds: dict[str, float] = field(default_factory=lambda: {"parse": 0.0, "chunk": 0.0, "embed": 0.0, "store": 0.0})

    @property
    def ok(self) -> bool:
        return not self.failed


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
    """An exclusive lock file; a stale one (its process gone) is taken over."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> IngestLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if self._stale():
                    self.path.unlink(missing_ok=True)
                    continue
                raise IngestLocked(
                    f"Another ingest is running (lock {self.path}). Wait for it to finish; if none is running, "
                    "delete the lock file."
                ) from None
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return self
        raise IngestLocked(f"Could not take the ingest lock {self.path}")

    def _stale(self) -> bool:
        try:
            pid = int(self.path.read_text().strip() or "0")
        except (OSError, ValueError):
            return True
        if pid <= 0:
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


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
    with IngestLock(settings.data_dir / "ingest.lock"):
        return _run(settings, embedder=embedder, store=store, root=root, prune=prune, progress=progress)


def _run(
    settings: Settings,
    *,
    embedder: Embedder,
    store: ChunkStore,
    root: Path,
    prune: bool,
    progress: Callable[[str], None] | None,
) -> IngestReport:
    report = IngestReport()
    sources, skipped = discover(root)
    report.skipped.extend(skipped)
    manifest = load_manifest(root)
    records = store.document_records()
    sig = f"{signature(settings.chunk_max_chars, settings.chunk_min_chars)}:{embedder.model_id}"
    base = root if root.is_dir() else root.parent
    knowledge = Path(settings.knowledge_dir)
    # doc ids are relative to the knowledge folder, wherever the run was pointed
    prefix = ""
    if base.resolve() != knowledge.resolve() and base.resolve().is_relative_to(knowledge.resolve()):
        prefix = base.resolve().relative_to(knowledge.resolve()).as_posix() + "/"
    seen: set[str] = set()
    current = {prefix + s.doc_id for s in sources}
    limit = int(settings.max_file_mb * 1024 * 1024)
    for source in sources:
        source = SourceFile(source.path, prefix + source.doc_id, source.size)
        report.files += 1
        if progress:
            progress(source.doc_id)
        seen.add(source.doc_id)
        if source.size > limit:
            report.failed.append(
                (source.doc_id, f"is {source.size / 1048576:.1f} MB, over the limit of {settings.max_file_mb:g} MB")
            )
            continue
        t0 = time.perf_counter()
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            report.failed.append((source.doc_id, f"could not be read: {exc.strerror or exc}"))
            continue
        entry = manifest.get(source.doc_id) or manifest.get(source.path.name) or {}
        fhash = file_hash(data + repr(sorted(entry.items())).encode())
        old = records.get(source.doc_id)
        if old is not None and old.file_hash == fhash and old.signature == sig:
            report.unchanged.append(source.doc_id)
            report.chunks_total += old.n_chunks
            continue
        try:
            document = build_document(source, data, entry, settings)
        except ParseError as exc:
            report.failed.append((source.doc_id, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - a parser library bug must not stop the whole run
            log.exception("unexpected error parsing %s", source.doc_id)
            report.failed.append((source.doc_id, f"could not be parsed ({type(exc).__name__}: {exc})"))
            continue
        t1 = time.perf_counter()
        chunks = chunk_document(document, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars)
        t2 = time.perf_counter()
        if len(chunks) > settings.max_chunks_per_file:
            report.failed.append(
                (source.doc_id, f"makes {len(chunks)} chunks, over the limit of {settings.max_chunks_per_file}")
            )
            continue
        duplicate = next(
            (
                d
                for d, r in records.items()
                if r.content_hash == document.content_hash and d != source.doc_id and d in current
            ),
            None,
        )
        if duplicate is not None:
            report.skipped.append((source.doc_id, f"has the same content as {duplicate}"))
            continue
        vectors = embedder.embed_documents([f"{c.context}\n{c.text}" for c in chunks])
        t3 = time.perf_counter()
        record = store.write_document(document, chunks, vectors, file_hash=fhash, signature=sig)
        t4 = time.perf_counter()
        records[source.doc_id] = record
        (report.updated if old is not None else report.added).append(source.doc_id)
        report.chunks_written += len(chunks)
        report.chunks_total += len(chunks)
        for key, value in zip(("parse", "chunk", "embed", "store"), (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            report.seconds[key] += value
        log.info("ingested %s: %d chunks", source.doc_id, len(chunks))
    if prune and root.resolve() == knowledge.resolve():
        for doc_id in sorted(set(records) - seen):
            store.delete_document(doc_id)
            report.removed.append(doc_id)
    # A file that failed this time keeps its previous good version in the store.
    for doc_id, _ in report.failed:
        if doc_id in records:
            report.chunks_total += records[doc_id].n_chunks
    store.sweep()
    return report
