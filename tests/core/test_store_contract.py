"""The ChunkStore contract, run against the embedded store and against a real Chroma server (`chroma run`)."""

from __future__ import annotations

import contextlib
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.config import Settings
from core.embeddings import HashingEmbedder
from core.errors import EmbeddingModelMismatch
from core.store import ChunkStore, DocumentWrite, chunk_to_record, open_store
from core.types import Chunk, Document, DocumentMeta
from testing.servers import background_process, free_port

CHROMA = Path(sys.executable).with_name("chroma")


@contextlib.contextmanager
def chroma_server(path: Path, *, timeout: float = 60.0) -> Iterator[tuple[str, int]]:
    """A real `chroma run` on 127.0.0.1 with its data under `path`; yields (host, port) once it answers."""
    if not CHROMA.exists():
        pytest.skip(f"no chroma CLI at {CHROMA}")
    port = free_port()
    cmd = [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    ready = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    with background_process(cmd, ready, name="chroma", timeout=timeout, interval=0.2):
        yield "127.0.0.1", port


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("chroma-server")
    with chroma_server(root / "data") as address:
        yield address
    shutil.rmtree(root, ignore_errors=True)


def _document(doc_id: str, text: str) -> Document:
    import hashlib

    return Document(
        doc_id=doc_id,
        meta=DocumentMeta(title=doc_id, doc_type="minutes", year=2024),
        media_type="text/plain",
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def _chunks(doc: Document, n: int, version: str) -> list[Chunk]:
    step = max(1, len(doc.text) // n)
    return [
        Chunk(
            chunk_id=f"{doc.doc_id}-{version}-{i}",
            doc_id=doc.doc_id,
            ordinal=i,
            text=doc.text[i * step : (i + 1) * step],
            start=i * step,
            end=(i + 1) * step,
            doc_hash=version,
            title=doc.doc_id,
            doc_type="minutes",
            year=2024,
        )
        for i in range(n)
    ]


class StoreContract:
    """What the rest of the code relies on, whichever Chroma is underneath. Subclasses provide `settings`."""

    @pytest.fixture
    def embedder(self) -> HashingEmbedder:
        return HashingEmbedder()

    @pytest.fixture
    def store(self, settings: Settings, embedder: HashingEmbedder) -> ChunkStore:
        return open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)

    def _write(self, store: ChunkStore, embedder: HashingEmbedder, doc_id: str, text: str, version: str, n: int = 3):
        doc = _document(doc_id, text)
        chunks = _chunks(doc, n, version)
        vectors = embedder.embed_documents([c.text for c in chunks])
        return store.write_document(doc, chunks, vectors, file_hash=f"f-{version}", signature="sig")

    def test_write_then_read_back(self, store, embedder) -> None:
        record = self._write(store, embedder, "a.txt", "alpha beta gamma delta " * 20, "v1")
        assert record.n_chunks == 3 and record.doc_hash == "v1"
        loaded = store.load_all()
        assert [c.chunk_id for c in loaded.chunks] == ["a.txt-v1-0", "a.txt-v1-1", "a.txt-v1-2"]
        assert loaded.embeddings.shape == (3, embedder.dim)
        assert store.count() == 3
        assert store.document_records()["a.txt"].file_hash == "f-v1"
        assert store.document_text("a.txt").startswith("alpha beta")
        assert store.document_text("missing") is None

    def test_state_changes_on_every_commit_and_only_then(self, store, embedder) -> None:
        v0 = store.state()
        assert store.state() == v0
        self._write(store, embedder, "a.txt", "alpha " * 50, "v1")
        v1 = store.state()
        assert v1 != v0 and store.state() == v1
        self._write(store, embedder, "a.txt", "beta " * 50, "v2")
        v2 = store.state()
        assert v2 not in (v0, v1)
        store.delete_document("a.txt")
        assert store.state() != v2

    def test_replacing_a_document_leaves_only_its_new_chunks(self, store, embedder) -> None:
        self._write(store, embedder, "a.txt", "alpha " * 50, "v1", n=4)
        self._write(store, embedder, "b.txt", "other " * 50, "v1", n=2)
        self._write(store, embedder, "a.txt", "beta " * 50, "v2", n=2)
        loaded = store.load_all().chunks
        assert {c.chunk_id for c in loaded if c.doc_id == "a.txt"} == {"a.txt-v2-0", "a.txt-v2-1"}
        assert len([c for c in loaded if c.doc_id == "b.txt"]) == 2
        assert store.count() == 4

    def test_batched_write_commits_every_document(self, store, embedder) -> None:
        writes = []
        for i in range(5):
            doc = _document(f"d{i}.txt", f"document {i} " * 40)
            chunks = _chunks(doc, 3, f"h{i}")
            writes.append(DocumentWrite(doc, chunks, embedder.embed_documents([c.text for c in chunks]), f"f{i}", "s"))
        records = store.write_documents(writes)
        assert [r.doc_id for r in records] == [f"d{i}.txt" for i in range(5)]
        assert len(store.load_all().chunks) == 15 and len(store.document_records()) == 5

    def test_uncommitted_chunks_are_invisible_and_swept(self, store, embedder) -> None:
        self._write(store, embedder, "a.txt", "alpha " * 50, "v1")
        orphan = _chunks(_document("a.txt", "half written " * 10), 1, "uncommitted")[0]
        store._chunks.upsert(
            ids=[orphan.chunk_id],
            documents=[orphan.text],
            metadatas=[chunk_to_record(orphan)[2]],
            embeddings=[np.ones(embedder.dim).tolist()],
        )
        assert orphan.chunk_id not in {c.chunk_id for c in store.load_all().chunks}
        before = store.state()
        assert store.sweep() == 1
        assert store.count() == 3 and store.state() != before

    def test_query_finds_the_nearest_chunk(self, store, embedder) -> None:
        self._write(store, embedder, "a.txt", "safeguarding board minutes about neglect " * 10, "v1")
        self._write(store, embedder, "b.txt", "annual report on training and audits " * 10, "v1")
        target = store.load_all()
        i = next(i for i, c in enumerate(target.chunks) if c.doc_id == "b.txt")
        got = store.query(target.embeddings[i], 3)
        assert got[0][0] == target.chunks[i].chunk_id and got[0][1] == pytest.approx(1.0, abs=1e-3)
        assert len(store.query(target.embeddings[i], 1000)) == len(target.chunks)  # more than there are: all
        store.set_ef_search(64)  # tunable on an existing collection
        assert store.query(target.embeddings[i], 1)[0][0] == target.chunks[i].chunk_id

    def test_delete_document_removes_chunks_and_record(self, store, embedder) -> None:
        self._write(store, embedder, "a.txt", "alpha " * 50, "v1")
        store.delete_document("a.txt")
        assert store.count() == 0 and store.document_records() == {}

    def test_flagged_chunks_are_kept_out_of_reads_and_listed(self, store, embedder) -> None:
        doc = _document("a.txt", "alpha beta gamma delta " * 20)
        chunks = _chunks(doc, 3, "v1")
        chunks[1] = chunks[1].model_copy(update={"flag": "tells the reader not to refer"})
        vectors = embedder.embed_documents([c.text for c in chunks])
        record = store.write_document(doc, chunks, vectors, file_hash="f", signature="s")
        self._write(store, embedder, "b.txt", "other " * 50, "v1")
        assert record.flagged == 1 and store.document_records()["a.txt"].flagged == 1
        assert "a.txt-v1-1" not in {c.chunk_id for c in store.load_all().chunks}
        assert len(store.load_all(flagged=True).chunks) == 6
        listed = store.flagged_chunks()
        assert [c.chunk_id for c in listed] == ["a.txt-v1-1"] and listed[0].flag == "tells the reader not to refer"
        self._write(store, embedder, "a.txt", "replaced " * 50, "v2")  # a new version without the passage
        assert store.flagged_chunks() == []

    def test_another_embedding_model_is_refused(self, store, settings, embedder) -> None:
        with pytest.raises(EmbeddingModelMismatch):
            open_store(settings, embedder_id="other-model", dim=embedder.dim)


class TestEmbeddedStore(StoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(data_dir=tmp_path / "data", embedding_backend="hashing", _env_file=None)  # type: ignore[call-arg]


class TestServerStore(StoreContract):
    @pytest.fixture
    def settings(self, tmp_path: Path, chroma: tuple[str, int]) -> Settings:
        host, port = chroma
        return Settings(
            data_dir=tmp_path / "data",
            embedding_backend="hashing",
            chroma_host=host,
            chroma_port=port,
            collection=f"t{uuid.uuid4().hex[:12]}",  # one server for the module, a fresh collection per test
            _env_file=None,  # type: ignore[call-arg]
        )
