"""The store and the ingest pipeline: idempotence, replacement, removal, bad files, crash safety, the lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import EmbeddingModelMismatch, IngestLocked
from core.store import chunk_to_record, open_store, record_to_chunk
from core.types import Chunk
from ingest.pipeline import IngestLock, ingest_corpus

ROOT = Path(__file__).resolve().parents[2]


def test_chunk_metadata_round_trip() -> None:
    chunk = Chunk(
        chunk_id="abc",
        doc_id="d.md",
        ordinal=3,
        text="t",
        start=5,
        end=6,
        section="1 A › 1.1 B",
        page=None,
        kind="list",
        context="T | 1 A",
        doc_hash="h",
        title="T",
        doc_type="minutes",
        partnership="P",
        year=2022,
    )
    assert record_to_chunk(*chunk_to_record(chunk)) == chunk


def test_ingest_then_reingest_is_idempotent(settings, embedder, store) -> None:
    first = ingest_corpus(settings, embedder=embedder, store=store)
    assert first.ok and sorted(first.added) == ["briefing.md", "minutes.txt", "procedure.html"]
    n = store.count()
    assert n == first.chunks_total > 0
    version = store.state()
    second = ingest_corpus(settings, embedder=embedder, store=store)
    assert second.chunks_written == 0 and len(second.unchanged) == 3
    assert store.count() == n and store.state() == version


def test_changed_file_replaces_its_chunks_and_removed_file_goes(settings, embedder, store, knowledge: Path) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    (knowledge / "minutes.txt").write_text("Minutes\n17.1 Entirely new text about MACE panels.\n")
    (knowledge / "procedure.html").unlink()
    report = ingest_corpus(settings, embedder=embedder, store=store)
    assert report.updated == ["minutes.txt"] and report.removed == ["procedure.html"]
    texts = [c.text for c in store.load_all().chunks]
    assert any("MACE panels" in t for t in texts)
    assert not any("rapid reviews were held" in t for t in texts)
    assert set(store.document_records()) == {"briefing.md", "minutes.txt"}


def test_bad_files_are_reported_and_the_rest_completes(settings, embedder, store, knowledge: Path) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    (knowledge / "empty.txt").write_bytes(b"")
    (knowledge / "binary.txt").write_bytes(os.urandom(4000))
    (knowledge / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%%garbage without objects")
    (knowledge / "latin1.txt").write_bytes("Réunion du comité: 5 rapid reviews.".encode("latin-1"))
    (knowledge / "copy.md").write_bytes((knowledge / "briefing.md").read_bytes())
    big = knowledge / "big.txt"
    big.write_bytes(b"a" * int(settings.max_file_mb * 1024 * 1024 + 10))
    (knowledge / "minutes.txt").write_bytes(b"")  # a good file broken: its old version must survive
    report = ingest_corpus(settings, embedder=embedder, store=store)
    failed = dict(report.failed)
    assert set(failed) == {"empty.txt", "binary.txt", "corrupt.pdf", "big.txt", "minutes.txt"}
    assert "empty" in failed["empty.txt"] and "binary" in failed["binary.txt"]
    assert "PDF" in failed["corrupt.pdf"] and "MB" in failed["big.txt"]
    assert dict(report.skipped)["copy.md"] == "has the same content as briefing.md"
    assert "latin1.txt" in report.added
    texts = " ".join(c.text for c in store.load_all().chunks)
    assert "Réunion du comité" in texts
    assert "9 rapid reviews were held" in texts  # minutes.txt kept its last good version


def test_store_refuses_another_embedding_model(settings, embedder, store) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    with pytest.raises(EmbeddingModelMismatch, match="hashing-256"):
        open_store(settings, embedder_id="other-model", dim=embedder.dim)


def test_readers_never_see_a_half_written_document(settings, embedder, store) -> None:
    """Chunks written without their record (a crash before the commit) are invisible and swept later."""
    ingest_corpus(settings, embedder=embedder, store=store)
    before = {c.chunk_id for c in store.load_all().chunks}
    orphan = Chunk(
        chunk_id="orphan1",
        doc_id="minutes.txt",
        ordinal=0,
        text="half-written new version",
        start=0,
        end=24,
        doc_hash="not-committed",
        title="x",
        doc_type="minutes",
    )
    store._chunks.upsert(  # simulate the first step of write_document, then a crash
        ids=["orphan1"],
        documents=[orphan.text],
        metadatas=[chunk_to_record(orphan)[2]],
        embeddings=[np.ones(embedder.dim).tolist()],
    )
    assert {c.chunk_id for c in store.load_all().chunks} == before
    assert store.sweep() == 1


def test_lock_refuses_a_second_run(settings) -> None:
    with IngestLock(settings.data_dir / "ingest.lock"):
        with pytest.raises(IngestLocked, match="Another ingest is running"):
            with IngestLock(settings.data_dir / "ingest.lock"):
                pass


def test_a_leftover_lock_file_does_not_block(settings) -> None:
    lock = settings.data_dir / "ingest.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("1")  # a crashed run's file, naming a live but unrelated process: the OS lock is free
    with IngestLock(lock):
        pass


@pytest.mark.slow
def test_killed_ingest_leaves_old_or_new_never_a_mix(settings, embedder, store, knowledge: Path, tmp_path) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    old = {c.chunk_id for c in store.load_all().chunks}
    for i in range(40):
        (knowledge / f"extra{i}.md").write_text(f"# Extra {i}\n\n" + f"Paragraph about topic {i}. " * 400)
    env = {
        **os.environ,
        "PKA_KNOWLEDGE_DIR": str(knowledge),
        "PKA_DATA_DIR": str(settings.data_dir),
        "PKA_EMBEDDING_BACKEND": "hashing",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pka_cli", "ingest"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # Kill it mid-run: once the progress bar says ten files are done, before it reaches the end.
    seen = b""
    deadline = time.monotonic() + 60
    while b"ingest: 10file" not in seen and time.monotonic() < deadline and proc.poll() is None:
        seen += os.read(proc.stderr.fileno(), 256)
    proc.kill()
    proc.wait(timeout=10)
    (settings.data_dir / "ingest.lock").unlink(missing_ok=True)
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # this process's cached view predates the other process's writes
    survivor = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    records = survivor.document_records()
    assert 3 <= len(records) < 43, f"the kill did not land mid-run ({len(records)} documents committed)"
    loaded = survivor.load_all().chunks
    assert old <= {c.chunk_id for c in loaded}  # the old documents are intact
    for doc_id, record in records.items():  # each committed document is complete: all of its chunks, one version
        mine = [c for c in loaded if c.doc_id == doc_id]
        assert len(mine) == record.n_chunks and {c.doc_hash for c in mine} == {record.doc_hash}
    report = ingest_corpus(settings, embedder=embedder, store=survivor)  # the next run completes the job
    assert report.ok and len(survivor.document_records()) == 43


def test_new_chunking_settings_replace_every_old_chunk(settings, embedder, store) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    before = {c.chunk_id for c in store.load_all().chunks}
    rechunked = settings.model_copy(update={"chunk_max_chars": 300, "chunk_min_chars": 50})
    report = ingest_corpus(rechunked, embedder=embedder, store=store)
    assert len(report.updated) == 3
    after = store.load_all().chunks
    assert not before & {c.chunk_id for c in after}
    assert store.count() == len(after)  # nothing of the old chunking is left behind, visible or not


def test_reads_page_through_the_whole_store(settings, embedder, store, monkeypatch) -> None:
    import core.store as store_module

    ingest_corpus(settings, embedder=embedder, store=store)
    whole = store.load_all()
    records = store.document_records()
    monkeypatch.setattr(store_module, "_PAGE", 7)  # many pages, the last one partial
    monkeypatch.setattr(store_module, "_IDS_PAGE", 5)
    paged = store.load_all()
    assert [c.chunk_id for c in paged.chunks] == [c.chunk_id for c in whole.chunks] and len(whole.chunks) > 7
    assert np.allclose(paged.embeddings, whole.embeddings)
    assert store.document_records() == records
    ids = [c.chunk_id for c in whole.chunks][::-1]
    assert np.allclose(store.embeddings_of(ids), whole.embeddings[::-1])
    assert store.load_all(embeddings=False).embeddings.shape == (0, embedder.dim)
