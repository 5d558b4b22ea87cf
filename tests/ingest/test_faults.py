"""Faults and awkward files (issue 14 §4): a full disk, a read-only store, symbolic links, odd file names, and
the ingest lock as an OS lock."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.testclient import TestClient

from tests.servers import api_server, ingested_fixture_corpus, run_cli

HUGE_RESERVE = {"PKA_MIN_FREE_MB": str(10**12)}  # more than any disk: every write is refused as a full disk


# ---- disk full -------------------------------------------------------------------------------------------------


def test_disk_full_ingest_stops_with_a_summary_and_the_store_stays_usable(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    knowledge = Path(env["PKA_KNOWLEDGE_DIR"])
    (knowledge / "quarzel.md").write_text("# Quarzel\n\nThe quarzel audit found nine unsafe crossings.\n")
    result = run_cli(["ingest"], {**env, **HUGE_RESERVE})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "chromadb" not in result.stderr
    assert "STOPPED: Not enough disk space" in result.stdout
    assert "FAILED  quarzel.md: not stored: Not enough disk space" in result.stdout
    assert "3 unchanged" in result.stdout  # the summary is printed
    with api_server(env) as url:  # the store opens at its last committed state
        assert sorted(d["document_id"] for d in httpx.get(f"{url}/documents").json()) == [
            "briefing.md",
            "minutes.txt",
            "procedure.html",
        ]
    result = run_cli(["ingest"], env)  # space again: the file goes in
    assert result.returncode == 0 and "1 added" in result.stdout, result.stdout + result.stderr


def test_disk_full_under_a_running_server_is_503_with_a_message(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    (Path(env["PKA_KNOWLEDGE_DIR"]) / "quarzel.md").write_text("# Quarzel\n\nThe quarzel audit found nine.\n")
    with api_server({**env, **HUGE_RESERVE}) as url:
        feedback = {"question": "q", "answer": "a", "citations": [], "rating": "up"}
        for r in (
            httpx.post(f"{url}/feedback", json=feedback),
            httpx.post(f"{url}/admin/ingest", timeout=60),
            httpx.delete(f"{url}/admin/documents/minutes.txt"),
        ):
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "disk_full" and "disk space" in r.json()["message"]
        assert httpx.get(f"{url}/documents/minutes.txt").status_code == 200
        assert httpx.get(f"{url}/health").status_code == 200
        assert "quarzel.md" not in {d["document_id"] for d in httpx.get(f"{url}/documents").json()}


# ---- read-only store -------------------------------------------------------------------------------------------


def _readonly(*_a, **_k):  # type: ignore[no-untyped-def]
    from chromadb.errors import InternalError

    raise InternalError("error returned from database: (code: 8) attempt to write a readonly database")


def test_read_only_store_under_a_running_server_is_503(settings, embedder, monkeypatch) -> None:
    from assistant.feedback import FeedbackStore
    from assistant.service import build_service
    from assistant.serving import create_app
    from ingest.pipeline import ingest_corpus

    service = build_service(settings, embedder=embedder)
    assert ingest_corpus(settings, embedder=embedder, store=service.store).ok
    (settings.knowledge_dir / "quarzel.md").write_text("# Quarzel\n\nThe quarzel audit found nine.\n")
    for collection in (service.store._chunks, service.store._docs, service.store._meta):
        monkeypatch.setattr(type(collection), "upsert", _readonly)
        monkeypatch.setattr(type(collection), "delete", _readonly)

    def readonly_feedback(*_a, **_k):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(FeedbackStore, "add", readonly_feedback)
    with TestClient(create_app(settings, service=service), raise_server_exceptions=False) as client:
        feedback = {"question": "q", "answer": "a", "citations": [], "rating": "up"}
        for r in (
            client.post("/admin/ingest"),
            client.delete("/admin/documents/minutes.txt"),
            client.post("/feedback", json=feedback),
        ):
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "store_read_only" and "read-only" in r.json()["message"]
        assert client.get("/documents/minutes.txt").status_code == 200
        assert client.get("/health").status_code == 200


# ---- symbolic links --------------------------------------------------------------------------------------------


def test_links_that_are_not_read_are_reported_by_name(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Secret\n\nNot part of the knowledge base.\n")
    env, _ = ingested_fixture_corpus(tmp_path)
    knowledge = Path(env["PKA_KNOWLEDGE_DIR"])
    (knowledge / "dangling.md").symlink_to(knowledge / "nothing-here.md")
    (knowledge / "loop-a.md").symlink_to(knowledge / "loop-b.md")
    (knowledge / "loop-b.md").symlink_to(knowledge / "loop-a.md")
    (knowledge / "outdir").symlink_to(outside, target_is_directory=True)
    (knowledge / "outfile.md").symlink_to(outside / "secret.md")
    (knowledge / "inside.md").symlink_to(knowledge / "briefing.md")
    result = run_cli(["ingest"], env)
    out = result.stdout
    assert "skipped dangling.md: is a broken link" in out, out
    assert "skipped loop-a.md: is a link loop" in out and "skipped loop-b.md: is a link loop" in out, out
    assert "skipped outdir: is a link to a folder outside the knowledge folder" in out, out
    assert "skipped outfile.md: is a link to outside the knowledge folder" in out, out
    assert "skipped inside.md: has the same content as briefing.md" in out, out  # read, and found to be a copy


# ---- odd file names --------------------------------------------------------------------------------------------

ODD_NAMES = ["a#b.md", "c [d].md", "e+f.md", "g%h.md", "100% sure.md", "emoji 🙂.md", "new\nline.md", "q?x.md"]


def test_every_ingested_document_can_be_opened_and_deleted(tmp_path: Path) -> None:
    extra = {
        name: f"# Odd {i}\n\nThe odd file number {i} talks about zorblat {i}.\n" for i, name in enumerate(ODD_NAMES)
    }
    env, out = ingested_fixture_corpus(tmp_path, extra)
    assert f"{3 + len(ODD_NAMES)} added" in out, out
    with api_server(env) as url:
        listed = {d["document_id"] for d in httpx.get(f"{url}/documents").json()}
        assert set(ODD_NAMES) <= listed
        for i, name in enumerate(ODD_NAMES):
            path = quote(name, safe="")
            r = httpx.get(f"{url}/documents/{path}")
            assert r.status_code == 200, (name, r.text)
            assert r.json()["document_id"] == name and f"zorblat {i}" in r.json()["text"]
            r = httpx.delete(f"{url}/admin/documents/{path}")
            assert r.status_code == 200 and r.json()["deleted"] == name, (name, r.text)
            assert httpx.get(f"{url}/documents/{path}").status_code == 404


# ---- the ingest lock -------------------------------------------------------------------------------------------


def test_a_leftover_lock_file_with_a_live_unrelated_pid_does_not_block(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    (Path(env["PKA_DATA_DIR"]) / "ingest.lock").write_text("1")  # PID 1 is alive, and not an ingest
    result = run_cli(["ingest"], env)
    assert result.returncode == 0 and "3 unchanged" in result.stdout, result.stdout + result.stderr


def test_a_held_lock_refuses_another_process(tmp_path: Path) -> None:
    from ingest.pipeline import IngestLock

    env, _ = ingested_fixture_corpus(tmp_path)
    with IngestLock(Path(env["PKA_DATA_DIR"]) / "ingest.lock"):
        result = run_cli(["ingest"], env)
    assert result.returncode == 2 and "Another ingest is running" in result.stderr, result.stdout + result.stderr
    assert run_cli(["ingest"], env).returncode == 0  # released


def test_lock_is_an_os_lock_in_one_process_too(settings) -> None:
    from core.errors import IngestLocked
    from ingest.pipeline import IngestLock

    lock = settings.data_dir / "ingest.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text(str(os.getpid()))  # this process's PID, left in the file: means nothing
    with IngestLock(lock):
        with pytest.raises(IngestLocked):
            with IngestLock(lock):
                pass
    with IngestLock(lock):
        pass


def test_a_disk_that_fills_during_the_write_stops_the_run_with_a_summary(settings, embedder, monkeypatch) -> None:
    from chromadb.errors import InternalError

    from core.store import open_store
    from ingest.pipeline import ingest_corpus

    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    assert ingest_corpus(settings, embedder=embedder, store=store).ok
    (settings.knowledge_dir / "quarzel.md").write_text("# Quarzel\n\nThe quarzel audit found nine.\n")

    def full(*_a, **_k):  # type: ignore[no-untyped-def]
        raise InternalError("error returned from database: (code: 13) database or disk is full")

    monkeypatch.setattr(type(store._chunks), "upsert", full)
    report = ingest_corpus(settings, embedder=embedder, store=store)
    assert not report.ok and report.stopped is not None and report.stopped.code == "disk_full"
    assert report.failed == [("quarzel.md", f"not stored: {report.stopped}")]
    assert len(report.unchanged) == 3
    monkeypatch.undo()
    assert sorted(store.document_records()) == ["briefing.md", "minutes.txt", "procedure.html"]


def test_a_full_disk_while_removing_a_gone_file_keeps_it_and_says_so(settings, embedder) -> None:
    from core.store import open_store
    from ingest.pipeline import ingest_corpus

    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    assert ingest_corpus(settings, embedder=embedder, store=store).ok
    (settings.knowledge_dir / "minutes.txt").unlink()
    full = settings.model_copy(update={"min_free_mb": 10.0**12})
    report = ingest_corpus(
        full, embedder=embedder, store=open_store(full, embedder_id=embedder.model_id, dim=embedder.dim)
    )
    assert report.stopped is not None and report.stopped.code == "disk_full"
    assert report.failed == [("minutes.txt", f"not removed: {report.stopped}")] and report.removed == []
    assert "minutes.txt" in store.document_records()
