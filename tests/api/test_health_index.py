"""/health says whether this process's search index has caught up with the store after an ingest."""

from __future__ import annotations

import shutil
from pathlib import Path

from starlette.testclient import TestClient

from assistant.api.app import create_app
from assistant.service import build_service
from core.config import Settings
from core.embeddings import HashingEmbedder
from ingest.pipeline import ingest_corpus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "knowledge"


def test_health_reports_an_index_behind_the_store_until_a_request_catches_it_up(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / "knowledge")
    settings = Settings(
        knowledge_dir=tmp_path / "knowledge",
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings init kwarg
    )
    service = build_service(settings, embedder=HashingEmbedder())
    assert ingest_corpus(settings, embedder=service.embedder, store=service.store).ok
    with TestClient(create_app(settings, service=service)) as client:
        assert client.get("/health").json()["index_current"] is True
        (settings.knowledge_dir / "zebra.txt").write_text("The quarzel audit found nine unsafe crossings.\n")
        assert ingest_corpus(settings, embedder=service.embedder, store=service.store).ok  # another process's ingest
        body = client.get("/health").json()
        assert body["status"] == "ok" and body["index_current"] is False
        hits = client.post("/search", json={"query": "quarzel audit", "top_k": 1}).json()["results"]
        assert "quarzel" in hits[0]["text"]  # a quick rebuild is waited for
        assert client.get("/health").json()["index_current"] is True
