"""ChunkStore: with core.store_access, the only code that imports chromadb. Chunks live in one collection, document
records in another.

Imports: stdlib, numpy, chromadb, core. A document's record is its commit point: chunks are written first, the
record second, stale chunks deleted last, and readers keep only chunks whose doc_hash (content and chunking
version together) matches a committed record. So a crash at any step leaves each document either at its old
version or its new one, never a mix. Processes sharing the embedded store follow each other's commits through a
stamp file (core.stamp, core.store_access); writes check free space first and fail as 503s that say why.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.config import Settings
from core.errors import EmbeddingModelMismatch, StoreUnavailable
from core.records import (
    DocumentRecord,
    DocumentWrite,
    StoredChunks,
    chunk_to_record,
    clean_meta,
    meta_to_record,
    record_to_chunk,
)
from core.stamp import ReadWriteGate, StoreStamp
from core.store_access import SharedAccess
from core.store_access import reads as _reads
from core.store_access import writes as _writes
from core.types import Chunk, Document

__all__ = ["ChunkStore", "DocumentRecord", "DocumentWrite", "StoredChunks", "chunk_to_record", "record_to_chunk"]

log = logging.getLogger(__name__)

# Reads page through a collection by offset, and chroma's cost per page grows with the offset (about 3 s for a page
# at offset 990k of a 1M-chunk store, whatever the page size): few large pages, not many small ones.
_PAGE = 25_000
_IDS_PAGE = 2000
_DOC_VECTOR = [1.0, 0.0]  # document records are looked up by id, never by vector; chroma still wants one
_STATE_ID = "state"
STAMP_FILE = "store.stamp"  # in the data folder: the last commit's writer and version, for other processes


class ChunkStore(SharedAccess):
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
        except Exception:  # older servers do not report it
            self._batch = 1000
        self._batch = max(100, min(self._batch, 5000))

    def set_ef_search(self, ef: int) -> None:
        """Change the ANN index's search breadth (an existing collection keeps its build-time parameters)."""
        try:
            current = ((self._chunks.configuration or {}).get("hnsw") or {}).get("ef_search")
            if current != ef:
                self._chunks.modify(configuration={"hnsw": {"ef_search": ef}})
        except Exception as exc:  # an old server may not support it; searching still works
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
        got = self._meta.get(ids=[_STATE_ID], include=["metadatas"])
        if got["ids"]:
            return str((got["metadatas"][0] or {}).get("version", ""))
        parts = sorted(f"{r.doc_id}:{r.doc_hash}:{r.signature}" for r in self.document_records().values())
        return hashlib.blake2b("\n".join(parts).encode(), digest_size=8).hexdigest()

    def _bump(self) -> None:
        token = uuid.uuid4().hex
        # the state token, under the key stores on disk have
        self._meta.upsert(
            ids=[_STATE_ID], documents=["state"], metadatas=[{"version": token}], embeddings=[_DOC_VECTOR]
        )
        self._state = token

    # ---- writes ----------------------------------------------------------------------------------------------
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
                embeddings=[_DOC_VECTOR] * len(part),
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


def open_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_host:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_path), settings=chroma_settings)
    except Exception as exc:  # connection and disk errors alike mean the store is not usable
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_host else settings.chroma_path
        raise StoreUnavailable(f"Could not open the vector store at {where}: {exc}") from exc


def forget_clients() -> None:
    """Drop chroma's per-process cache of open stores: call before deleting a store folder this process opened."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def hnsw_config(settings: Settings) -> dict[str, Any]:
    return {
        "ef_search": settings.hnsw_ef_search,
        "ef_construction": settings.hnsw_ef_construction,
        "max_neighbors": settings.hnsw_max_neighbors,
    }


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
