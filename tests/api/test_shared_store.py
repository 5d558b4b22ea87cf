"""`pka serve` and `pka ingest` in two processes on one data folder (issue 14 §1): the server follows the other
process's commits by reopening its client, and /health says 503 when it cannot read the store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.servers import api_server, ingested_fixture_corpus, run_cli

NEW = "# Quarzel audit\n\nThe quarzel audit of 2024 found nine unsafe crossings near the schools.\n"


def _top(url: str, query: str) -> httpx.Response:
    return httpx.post(f"{url}/search", json={"query": query, "top_k": 1}, timeout=60)


def test_a_cli_ingest_beside_a_running_server_is_followed(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    # the fitted abstention threshold assumes MiniLM similarities; with the hashing stand-in this test checks
    # that the new document is served, not whether the scorer is confident
    env["PKA_ABSTAIN_THRESHOLD"] = "0"
    knowledge = Path(env["PKA_KNOWLEDGE_DIR"])
    with api_server(env) as url:
        assert _top(url, "rapid review").status_code == 200  # the server has built its index
        (knowledge / "quarzel.md").write_text(NEW, encoding="utf-8")
        result = run_cli(["ingest"], env)
        assert result.returncode == 0 and "1 added" in result.stdout, result.stdout + result.stderr
        r = _top(url, "quarzel audit unsafe crossings")
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["document_id"] == "quarzel.md"
        r = httpx.post(f"{url}/ask", json={"question": "What did the quarzel audit find?"}, timeout=60)
        assert r.status_code == 200 and "nine unsafe crossings" in r.json()["answer"], r.text
        assert httpx.post(f"{url}/admin/reload", timeout=60).status_code == 200
        health = httpx.get(f"{url}/health", timeout=30)
        assert health.status_code == 200 and health.json()["documents"] == 4, health.text
        # an update and a removal by the other process are followed too
        (knowledge / "quarzel.md").write_text(NEW.replace("nine", "eleven"), encoding="utf-8")
        (knowledge / "minutes.txt").unlink()
        result = run_cli(["ingest"], env)
        assert "1 updated" in result.stdout and "1 removed" in result.stdout, result.stdout + result.stderr
        r = httpx.post(f"{url}/ask", json={"question": "What did the quarzel audit find?"}, timeout=60)
        assert r.status_code == 200 and "eleven unsafe crossings" in r.json()["answer"], r.text
        assert httpx.get(f"{url}/documents/minutes.txt", timeout=30).status_code == 404
        assert httpx.get(f"{url}/health", timeout=30).json()["documents"] == 3


def test_health_is_503_when_the_store_cannot_be_read(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    with api_server(env) as url:
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        sqlite = Path(env["PKA_DATA_DIR"]) / "chroma" / "chroma.sqlite3"
        size = sqlite.stat().st_size
        with sqlite.open("r+b") as fh:  # the store's database overwritten in place: unreadable
            fh.write(b"\0garbage" * (size // 8))
        r = httpx.get(f"{url}/health", timeout=30)
        assert r.status_code == 503, r.text
        body = r.json()
        assert (
            body["status"] == "degraded" and body["store"].startswith("error:") and body["error"] == "store_unavailable"
        )
        assert body["message"].startswith("The knowledge store is not available")
        r = httpx.get(f"{url}/documents", timeout=30)
        assert r.status_code == 503 and r.json()["error"] == "store_unavailable", r.text


@pytest.mark.parametrize("stamp", ["12345 feedfacefeedface\n", "garbage"])
def test_a_stamp_from_another_process_reopens_the_client(tmp_path: Path, settings, embedder, stamp: str) -> None:
    from core.store import STAMP_FILE, open_store
    from ingest.pipeline import ingest_corpus

    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    ingest_corpus(settings, embedder=embedder, store=store)
    before = store.state()
    generation = store._generation
    (settings.data_dir / STAMP_FILE).write_text(stamp)
    assert store.state() == before  # the same committed state, read through a fresh client
    assert store._generation == generation + (1 if stamp.startswith("12345") else 0)
    assert len(store.document_records()) == 3


def test_a_failed_read_reopens_once_then_answers_503(settings, embedder, monkeypatch) -> None:
    from core.errors import StoreUnavailable
    from core.store import open_store
    from ingest.pipeline import ingest_corpus

    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    ingest_corpus(settings, embedder=embedder, store=store)
    collection_type = type(store._chunks)
    real_count = collection_type.count
    failures = {"left": 1}

    def flaky(self):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("Error finding id")  # what a stale embedded client raised
        return real_count(self)

    monkeypatch.setattr(collection_type, "count", flaky)
    generation = store._generation
    assert store.count() > 0  # the first read failed, the store was reopened, the retry answered
    assert store._generation == generation + 1
    failures["left"] = 2
    with pytest.raises(StoreUnavailable, match="even after reopening"):
        store.count()


def test_the_gate_lets_a_reader_in_again_but_never_reopens_from_inside_a_read() -> None:
    from core.stamp import ReadWriteGate

    gate = ReadWriteGate()
    with gate.reading():
        with gate.reading():  # a read that calls another read
            assert gate.inside()
        with pytest.raises(RuntimeError):
            with gate.writing():
                pass
    assert not gate.inside()
    with gate.writing():
        pass


def test_a_cli_rebuild_beside_a_running_server_is_followed(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    with api_server(env) as url:
        assert _top(url, "rapid review").status_code == 200
        (Path(env["PKA_KNOWLEDGE_DIR"]) / "quarzel.md").write_text(NEW, encoding="utf-8")
        result = run_cli(["ingest", "--rebuild"], env)
        assert result.returncode == 0 and "4 added" in result.stdout, result.stdout + result.stderr
        r = _top(url, "quarzel audit unsafe crossings")
        assert r.status_code == 200 and r.json()["results"][0]["document_id"] == "quarzel.md", r.text
        health = httpx.get(f"{url}/health", timeout=30)
        assert health.status_code == 200 and health.json()["documents"] == 4, health.text


@pytest.mark.slow
def test_the_load_with_ingest_bench_runs_clean_at_small_scale(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.servers import ROOT

    out = tmp_path / "load-ingest.md"
    args = ["--hashing", "--requests", "120", "--concurrency", "8", "--ingest-after", "30", "--out", str(out)]
    args += ["--knowledge", str(ROOT / "tests" / "fixtures" / "knowledge")]
    result = subprocess.run(
        [sys.executable, "-m", "bench.load_ingest", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    row = out.read_text().split("| ---: |")[-1].splitlines()[1]
    assert row.startswith("| 120 | 0 |") and "not within" not in row, row
