"""The store's record types and their conversion to and from Chroma's flat metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.types import Chunk, Document, DocumentMeta


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    meta: DocumentMeta
    media_type: str
    content_hash: str
    doc_hash: str  # the doc_hash its committed chunks carry: content and chunking together
    file_hash: str
    signature: str  # chunker version + settings + embedder: a change re-chunks and re-embeds
    n_chunks: int
    chars: int
    flagged: int = 0  # chunks ingest flagged as planted instructions (kept out of answers; see flagged_chunks)


@dataclass(frozen=True)
class DocumentWrite:
    """One document's new version for ChunkStore.write_documents."""

    document: Document
    chunks: Sequence[Chunk]
    embeddings: np.ndarray
    file_hash: str
    signature: str


@dataclass(frozen=True)
class StoredChunks:
    """Every committed chunk with its embedding, as loaded for the in-memory indexes."""

    chunks: list[Chunk]
    embeddings: np.ndarray


def clean_meta(meta: dict[str, Any]) -> dict[str, Any]:
    # Chroma rejects None values and empty dicts; emit flat scalars only.
    out = {k: v for k, v in meta.items() if v is not None}
    return out or {"_": 0}


def chunk_to_record(chunk: Chunk) -> tuple[str, str, dict[str, Any]]:
    meta = chunk.model_dump(exclude={"chunk_id", "text"})
    return chunk.chunk_id, chunk.text, clean_meta(meta)


def record_to_chunk(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    fields = {k: v for k, v in meta.items() if k in Chunk.model_fields}
    return Chunk(chunk_id=chunk_id, text=text, **fields)


def meta_to_record(doc_id: str, meta: dict[str, Any]) -> DocumentRecord:
    fields = {k: meta[k] for k in DocumentMeta.model_fields if k in meta}
    return DocumentRecord(
        doc_id=doc_id,
        meta=DocumentMeta(**fields),
        media_type=str(meta.get("media_type", "")),
        content_hash=str(meta.get("content_hash", "")),
        doc_hash=str(meta.get("version", meta.get("content_hash", ""))),  # stored as "version" (older stores)
        file_hash=str(meta.get("file_hash", "")),
        signature=str(meta.get("signature", "")),
        n_chunks=int(meta.get("n_chunks", 0)),
        chars=int(meta.get("chars", 0)),
        flagged=int(meta.get("flagged", 0)),
    )


def flagged_row(c: Chunk) -> dict[str, object]:
    """One flagged passage as the API and `pka flagged --json` show it."""
    return {
        "document_id": c.doc_id,
        "title": c.title,
        "chunk_id": c.chunk_id,
        "section": c.section,
        "page": c.page,
        "start": c.start,
        "end": c.end,
        "reason": c.flag,
        "text": c.text,
    }
