"""ChunkStore's writes (core.store has its reads). A document's record is its commit point: chunks are written first,
the record second, stale chunks deleted last; each commit changes the store's state token (one record in the
meta collection). Writes check free space first and fail as 503s that say why (core.store_access).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from core.records import DocumentRecord, DocumentWrite, chunk_to_record, clean_meta, meta_to_record
from core.store_access import SharedAccess
from core.store_access import writes as _writes
from core.types import Chunk, Document

DOC_VECTOR = [1.0, 0.0]  # document records are looked up by id, never by vector; chroma still wants one
STATE_ID = "state"


class StoreWrites(SharedAccess):
    """The write half of ChunkStore, which sets these attributes and has the reads declared below."""

    dim: int
    _chunks: Any  # the chunks' chroma collection
    _docs: Any  # the document records'
    _meta: Any  # the state token's
    _batch: int
    _state: str | None

    if TYPE_CHECKING:

        def document_records(self) -> dict[str, DocumentRecord]: ...

        def _page(
            self, collection: Any, *, include: list[str]
        ) -> Iterator[tuple[list[str], list[Any], list[Any], list[Any]]]: ...

    def _bump(self) -> None:
        token = uuid.uuid4().hex
        self._meta.upsert(ids=[STATE_ID], documents=["state"], metadatas=[{"version": token}], embeddings=[DOC_VECTOR])
        self._state = token

    def write_document(
        self,
        document: Document,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        *,
        file_hash: str,
        signature: str,
    ) -> DocumentRecord:
        """Replace a document's chunks. Chunks first, record (the commit) second, stale chunks last."""
        return self.write_documents([DocumentWrite(document, chunks, embeddings, file_hash, signature)])[0]

    @_writes
    def write_documents(self, items: Sequence[DocumentWrite]) -> list[DocumentRecord]:
        """Replace several documents' chunks in large batches, each document still committed atomically: every
        chunk of the batch is written first, then the documents' records (the commit), then stale chunks.

        Refused with DiskFull before anything is written when the disk would be left under PKA_MIN_FREE_MB."""
        if not items:
            return []
        need = sum(
            len(i.document.text) * 2 + sum(len(c.text) * 3 + 512 + self.dim * 12 for c in i.chunks) for i in items
        )
        self._ensure_space(need, f"store {len(items)} document(s)")
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        doc_hashes: dict[str, str] = {}
        rec_metas: list[dict[str, Any]] = []
        for item in items:
            document, chunks = item.document, item.chunks
            if len(chunks) != len(item.embeddings):
                raise ValueError(f"{len(chunks)} chunks but {len(item.embeddings)} embeddings")
            found = {c.doc_hash for c in chunks}
            if len(found) > 1:
                raise ValueError(f"chunks of {document.doc_id} carry {len(found)} doc_hashes; expected one")
            if document.doc_id in doc_hashes:
                raise ValueError(f"{document.doc_id} appears twice in one write")
            doc_hash = found.pop() if found else document.content_hash
            doc_hashes[document.doc_id] = doc_hash
            for c in chunks:
                cid, text, meta = chunk_to_record(c)
                ids.append(cid)
                texts.append(text)
                metas.append(meta)
            if len(chunks):
                vectors.append(np.asarray(item.embeddings, dtype=np.float32))
            rec_metas.append(
                {
                    **document.meta.model_dump(),
                    "media_type": document.media_type,
                    "content_hash": document.content_hash,
                    "version": doc_hash,  # the record's doc_hash, under the key stores on disk have
                    "file_hash": item.file_hash,
                    "signature": item.signature,
                    "n_chunks": len(chunks),
                    "chars": len(document.text),
                    "flagged": sum(1 for c in chunks if c.flag),
                }
            )
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, self.dim), np.float32)
        for lo in range(0, len(ids), self._batch):
            hi = lo + self._batch
            self._chunks.upsert(
                ids=ids[lo:hi], documents=texts[lo:hi], metadatas=metas[lo:hi], embeddings=matrix[lo:hi]
            )
        for lo in range(0, len(items), self._batch):
            part = items[lo : lo + self._batch]
            self._docs.upsert(
                ids=[i.document.doc_id for i in part],
                documents=[i.document.text for i in part],
                metadatas=[clean_meta(m) for m in rec_metas[lo : lo + self._batch]],
                embeddings=[DOC_VECTOR] * len(part),
            )
        self._delete_stale(doc_hashes)
        self._bump()
        return [meta_to_record(i.document.doc_id, m) for i, m in zip(items, rec_metas, strict=True)]

    def _delete_stale(self, doc_hashes: dict[str, str]) -> None:
        """Delete the chunks of these documents whose doc_hash is not the one committed."""
        doc_ids = list(doc_hashes)
        stale: list[str] = []
        for lo in range(0, len(doc_ids), 500):
            part = doc_ids[lo : lo + 500]
            where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
            got = self._chunks.get(where=where, include=["metadatas"])
            for cid, meta in zip(got["ids"], got["metadatas"], strict=True):
                if doc_hashes.get(str(meta.get("doc_id"))) != meta.get("doc_hash"):
                    stale.append(cid)
        for lo in range(0, len(stale), self._batch):
            self._chunks.delete(ids=stale[lo : lo + self._batch])

    @_writes
    def delete_document(self, doc_id: str) -> None:
        self._ensure_space(1 << 20, f"delete {doc_id}")  # a delete writes too (SQLite's journal)
        self._docs.delete(ids=[doc_id])
        self._chunks.delete(where={"doc_id": doc_id})
        self._bump()

    @_writes
    def sweep(self) -> int:
        """Delete chunks that no committed record owns (left by an interrupted run). Returns how many."""
        committed = {d: r.doc_hash for d, r in self.document_records().items()}
        stale: list[str] = []
        for ids, _d, metas, _e in self._page(self._chunks, include=["metadatas"]):
            for cid, meta in zip(ids, metas, strict=True):
                if committed.get(str(meta.get("doc_id"))) != meta.get("doc_hash"):
                    stale.append(cid)
        for lo in range(0, len(stale), self._batch):
            self._chunks.delete(ids=stale[lo : lo + self._batch])
        if stale:
            self._bump()
        return len(stale)
