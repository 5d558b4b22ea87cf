"""ChunkStore: with core.store_access, core.store_writes and core.chroma_client, the only code that imports
chromadb. Chunks live in one collection, document records in another.

A document's record is its commit point: chunks are written first, the
record second, stale chunks deleted last, and readers keep only chunks whose doc_hash (content and chunking
version together) matches a committed record. So a crash at any step leaves each document either at its old
version or its new one, never a mix. Processes sharing the embedded store follow each other's commits through a
stamp file (core.stamp, core.store_access); writes check free space first and fail as 503s that say why.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.chroma_client import forget_clients, hnsw_config, open_client
from core.config import Settings
from core.errors import EmbeddingModelMismatch, StoreUnavailable
from core.records import (
    DocumentRecord,
    DocumentWrite,
    StoredChunks,
    chunk_to_record,
    meta_to_record,
    record_to_chunk,
)
from core.stamp import ReadWriteGate, StoreStamp
from core.store_access import reads as _reads
from core.store_writes import STATE_ID, StoreWrites
from core.types import Chunk

__all__ = [
    "ChunkStore",
    "DocumentRecord",
    "DocumentWrite",
    "StoredChunks",
    "chunk_to_record",
    "forget_clients",
    "hnsw_config",
    "open_client",
    "open_store",
    "record_to_chunk",
]

log = logging.getLogger(__name__)

# Reads page through a collection by offset, and chroma's cost per page grows with the offset (about 3 s for a page
# at offset 990k of a 1M-chunk store, whatever the page size): few large pages, not many small ones.
_PAGE = 25_000
_IDS_PAGE = 2000
STAMP_FILE = "store.stamp"  # in the data folder: the last commit's writer and version, for other processes


class ChunkStore(StoreWrites):
    """The store: reads here, writes in core.store_writes, the Chroma client in core.chroma_client."""

    def __init__(
        self,
        client: Any,
        *,
        collection: str,
        embedder_id: str,
        dim: int,
        hnsw: dict[str, Any] | None = None,
        cache_dir: Path | None = None,
        opener: Callable[[], Any] | None = None,
        stamp: StoreStamp | None = None,
        space: Path | None = None,
        min_free_mb: float = 0.0,
    ) -> None:
        """opener: makes a fresh client (to reopen after another process's commit or a failed read); stamp: the
        embedded store's change notice shared by processes; space: where the store's files are, for the free-space
        check before a write (None: not checked, as for a Chroma server)."""
        self.embedder_id = embedder_id
        self.dim = dim
        self.cache_dir = cache_dir  # where readers may keep indexes derived from the store (None: nowhere)
        self._name = collection
        self._hnsw = {k: v for k, v in (hnsw or {}).items() if v is not None}
        self._opener = opener
        self._stamp = stamp
        self._space = space
        self._min_free_mb = min_free_mb
        self._gate = ReadWriteGate()
        self._generation = 0
        self._state: str | None = None  # with a stamp: the committed state this client is known to be at
        self._defer = 0
        self._dirty = False
        if stamp is not None:
            stamp.changed()  # the stamp as it is now: this client is opened after it
        self._attach(client)

    def _attach(self, client: Any) -> None:
        hnsw = self._hnsw
        try:
            self._chunks = client.get_or_create_collection(
                self._name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", **hnsw}},
                metadata={"embedder": self.embedder_id, "dim": self.dim},
            )
            self._docs = client.get_or_create_collection(
                f"{self._name}-documents", embedding_function=None, metadata={"kind": "documents"}
            )
            # One record whose token changes on every commit: state() is a single get, whatever the size.
            self._meta = client.get_or_create_collection(
                f"{self._name}-meta", embedding_function=None, metadata={"kind": "meta"}
            )
        except Exception as exc:  # chroma raises many types; all mean "store not usable"
            raise StoreUnavailable(f"Could not open the vector store: {exc}") from exc
        self._client = client
        recorded = (self._chunks.metadata or {}).get("embedder")
        if recorded and recorded != self.embedder_id:
            raise EmbeddingModelMismatch(
                f"The store was built with embedding model {recorded!r} but {self.embedder_id!r} is configured. "
                "Rebuild it with `pka ingest --rebuild` or configure the original model."
            )
        if "ef_search" in hnsw:
            self.set_ef_search(int(hnsw["ef_search"]))
        try:
            self._batch = int(client.get_max_batch_size())
        except Exception:  # noqa: BLE001 - older servers do not report it
            self._batch = 1000
        self._batch = max(100, min(self._batch, 5000))

    def set_ef_search(self, ef: int) -> None:
        """Change the ANN index's search breadth (an existing collection keeps its build-time parameters)."""
        try:
            current = ((self._chunks.configuration or {}).get("hnsw") or {}).get("ef_search")
            if current != ef:
                self._chunks.modify(configuration={"hnsw": {"ef_search": ef}})
        except Exception as exc:  # noqa: BLE001 - an old server may not support it; searching still works
            log.warning("could not set HNSW ef_search=%s: %s", ef, exc)

    # ---- documents -------------------------------------------------------------------------------------------
    @_reads
    def document_records(self) -> dict[str, DocumentRecord]:
        out: dict[str, DocumentRecord] = {}
        for ids, _docs, metas, _emb in self._page(self._docs, include=["metadatas"]):
            for doc_id, meta in zip(ids, metas, strict=True):
                out[doc_id] = meta_to_record(doc_id, meta)
        return out

    @_reads
    def document_text(self, doc_id: str) -> str | None:
        got = self._docs.get(ids=[doc_id], include=["documents"])
        if not got["ids"]:
            return None
        return str(got["documents"][0])

    @_reads
    def state(self) -> str:
        """A token of the committed state: changes whenever a document is added, replaced or removed.

        Cheap (one record read; with a stamp, none until a commit) so that readers may check it on every request.
        A store written before the token existed gets a fingerprint of its document records instead. With a stamp
        (the embedded store) it is the state this client was opened at or has committed itself, so that another
        process's commits are followed only once they are published, by reopening.
        """
        if self._stamp is not None and self._state is not None:
            return self._state
        self._state = self.live_state()
        return self._state

    @_reads
    def live_state(self) -> str:
        """The state token as the store's files say now, read whatever this client knows (for /health)."""
        got = self._meta.get(ids=[STATE_ID], include=["metadatas"])
        if got["ids"]:
            return str((got["metadatas"][0] or {}).get("version", ""))
        parts = sorted(f"{r.doc_id}:{r.doc_hash}:{r.signature}" for r in self.document_records().values())
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()

    # ---- reads -----------------------------------------------------------------------------------------------
    @_reads
    def count(self) -> int:
        return int(self._chunks.count())

    @_reads
    def load_all(self, *, embeddings: bool = True, flagged: bool = False) -> StoredChunks:
        """Every committed chunk in a stable order, with its embedding (or, with embeddings=False, an empty
        matrix: for a reader that has the vectors already, such as the retriever with its index cache).
        Chunks ingest flagged as planted instructions are left out unless flagged=True."""
        committed = {d: r.doc_hash for d, r in self.document_records().items()}
        chunks: list[Chunk] = []
        vectors: list[np.ndarray] = []
        include = ["documents", "metadatas", "embeddings"] if embeddings else ["documents", "metadatas"]
        for ids, docs, metas, embs in self._page(self._chunks, include=include):
            for cid, text, meta, emb in zip(ids, docs, metas, embs, strict=True):
                if committed.get(str(meta.get("doc_id"))) != meta.get("doc_hash"):
                    continue
                if meta.get("flag") and not flagged:
                    continue
                chunks.append(record_to_chunk(cid, text, meta))
                if embeddings:
                    vectors.append(np.asarray(emb, dtype=np.float32))
        order = sorted(range(len(chunks)), key=lambda i: (chunks[i].doc_id, chunks[i].ordinal))
        chunks = [chunks[i] for i in order]
        matrix = np.stack([vectors[i] for i in order]) if vectors else np.zeros((0, self.dim), np.float32)
        return StoredChunks(chunks=chunks, embeddings=matrix)

    @_reads
    def flagged_chunks(self) -> list[Chunk]:
        """The committed chunks ingest flagged as planted instructions, by document and position. Reads only the
        documents whose record counts flagged chunks."""
        records = {d: r for d, r in self.document_records().items() if r.flagged}
        out: list[Chunk] = []
        doc_ids = sorted(records)
        for lo in range(0, len(doc_ids), 500):
            part = doc_ids[lo : lo + 500]
            where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
            got = self._chunks.get(where=where, include=["documents", "metadatas"])
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                if meta.get("flag") and records[str(meta.get("doc_id"))].doc_hash == meta.get("doc_hash"):
                    out.append(record_to_chunk(cid, str(text), meta))
        return sorted(out, key=lambda c: (c.doc_id, c.ordinal))

    @_reads
    def embeddings_of(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of these chunks, in the order given."""
        out = np.zeros((len(chunk_ids), self.dim), dtype=np.float32)
        where = {cid: i for i, cid in enumerate(chunk_ids)}
        for lo in range(0, len(chunk_ids), _IDS_PAGE):
            got = self._chunks.get(ids=list(chunk_ids[lo : lo + _IDS_PAGE]), include=["embeddings"])
            for cid, emb in zip(got["ids"], got["embeddings"], strict=True):
                out[where[cid]] = np.asarray(emb, dtype=np.float32)
        return out

    @_reads
    def query(self, vector: np.ndarray, n: int, *, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """Approximate nearest neighbours from the store's own index: (chunk_id, cosine similarity)."""
        n = max(1, n)  # chroma returns what there is when asked for more: no count() round trip per query
        got = self._chunks.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)], n_results=n, include=["distances"], where=where
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], got["distances"][0], strict=True)]

    def _page(
        self, collection: Any, *, include: list[str]
    ) -> Iterator[tuple[list[str], list[Any], list[Any], list[Any]]]:
        offset = 0
        while True:
            got = collection.get(include=include, limit=_PAGE, offset=offset)
            ids = got["ids"]
            if not ids:
                return
            n = len(ids)
            docs = got.get("documents") or [None] * n
            metas = got.get("metadatas") or [{}] * n
            embs = got.get("embeddings")
            embs = list(embs) if embs is not None else [None] * n
            yield ids, docs, metas, embs
            if n < _PAGE:
                return
            offset += n


def open_store(settings: Settings, *, embedder_id: str, dim: int) -> ChunkStore:
    embedded = not settings.chroma_host
    return ChunkStore(
        open_client(settings),
        collection=settings.collection,
        embedder_id=embedder_id,
        dim=dim,
        hnsw=hnsw_config(settings),
        cache_dir=settings.data_dir / "index" if settings.index_cache else None,
        opener=lambda: open_client(settings),
        stamp=StoreStamp(settings.data_dir / STAMP_FILE) if embedded else None,
        space=settings.chroma_path if embedded else None,
        min_free_mb=settings.min_free_mb,
    )
