"""Shared fixtures: settings on a temp folder, the hashing embedder, a real Chroma store, a small corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.config import Settings
from core.embeddings import HashingEmbedder
from core.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A copy of the fixture corpus that a test may change."""
    dest = tmp_path / "knowledge"
    shutil.copytree(FIXTURES / "knowledge", dest)
    return dest


@pytest.fixture
def settings(tmp_path: Path, knowledge: Path) -> Settings:
    return Settings(
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings init kwarg
    )


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def store(settings: Settings, embedder: HashingEmbedder):
    return open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
