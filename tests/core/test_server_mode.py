"""Server mode: the same code against a real Chroma server (PKA_CHROMA_HOST/PORT), including `pka serve --workers 2`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.service import build_service
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.store import open_store
from ingest.pipeline import ingest_corpus
from tests.core.test_store_contract import chroma_server
from tests.servers import api_server, run_cli


@pytest.fixture(scope="module")
def chroma(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    with chroma_server(tmp_path_factory.mktemp("chroma-server") / "data") as address:
        yield address


@pytest.fixture
def server_settings(tmp_path: Path, knowledge: Path, chroma: tuple[str, int]) -> Settings:
    host, port = chroma
    return Settings(
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        chroma_host=host,
        chroma_port=port,
        collection=f"k{tmp_path.name[-20:].replace('_', '').replace('-', '')}",
        _env_file=None,  # type: ignore[call-arg]
    )


def test_ingest_and_ask_round_trip_against_a_chroma_server(server_settings: Settings) -> None:
    embedder = HashingEmbedder()
    store = open_store(server_settings, embedder_id=embedder.model_id, dim=embedder.dim)
    report = ingest_corpus(server_settings, embedder=embedder, store=store)
    assert report.ok and report.chunks_written > 0
    assert not (server_settings.data_dir / "chroma").exists()  # nothing was stored locally
    again = ingest_corpus(server_settings, embedder=embedder, store=store)
    assert again.chunks_written == 0 and len(again.unchanged) == report.files

    service = build_service(server_settings, embedder=embedder)
    hits = service.search("safeguarding board minutes", top_k=3)
    assert hits and all(h.chunk.doc_id in store.document_records() for h in hits)
    answer = service.ask("Who chairs the board?")
    assert answer.answer
    # a second process's view (a fresh client) sees the same committed state and version
    other = open_store(server_settings, embedder_id=embedder.model_id, dim=embedder.dim)
    assert other.state() == store.state() and other.count() == store.count()


@pytest.mark.slow
def test_api_with_two_workers_against_a_chroma_server(server_settings: Settings, knowledge: Path, tmp_path) -> None:
    host, port = server_settings.chroma_host, server_settings.chroma_port
    env = {
        "PKA_KNOWLEDGE_DIR": str(knowledge),
        "PKA_DATA_DIR": str(server_settings.data_dir),
        "PKA_EMBEDDING_BACKEND": "hashing",
        "PKA_CHROMA_HOST": host,
        "PKA_CHROMA_PORT": str(port),
        "PKA_COLLECTION": server_settings.collection,
    }
    result = run_cli(["ingest"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    with api_server(env, workers=2) as url, httpx.Client(base_url=url, timeout=30) as client:
        health = client.get("/health").json()
        chunks = health["chunks"]
        assert chunks > 0
        for _ in range(6):  # spread over both workers (new connections)
            with httpx.Client(base_url=url, timeout=30) as fresh:
                r = fresh.post("/search", json={"query": "safeguarding board", "top_k": 3})
                assert r.status_code == 200 and r.json()["results"]
                assert fresh.post("/ask", json={"question": "Who chairs the board?"}).status_code == 200
        # an ingest elsewhere is noticed by every worker on its next request (the store's version token)
        (knowledge / "new-note.md").write_text("# Drone policy\n\nDrones over playgrounds need written consent. " * 5)
        assert run_cli(["ingest"], env).returncode == 0
        for _ in range(6):
            with httpx.Client(base_url=url, timeout=30) as fresh:
                r = fresh.post("/search", json={"query": "drone playground consent", "top_k": 1})
                assert r.status_code == 200
                assert r.json()["results"][0]["document_id"] == "new-note.md"
