"""Shared fixtures: settings on a temp folder, the hashing embedder, a real Chroma store, a small corpus."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

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


# ---- tiers: unit (fast, in-process), integration (starts servers or subprocesses), slow (real model / corpus) ----

# Calls that start a process; a test whose own body or any of whose fixtures makes one is an integration test.
_STARTS_A_PROCESS = (
    "api_server(",
    "background_process(",
    "chroma_server(",
    "fake_llm_server(",
    "ingested_fixture_corpus(",
    "run_cli(",
    "subprocess.",
)


def _starts_a_process(func: Any, seen: set[int] | None = None) -> bool:
    """Whether `func`'s source, or that of a function of its own module it calls, starts a process."""
    import inspect
    import re

    seen = set() if seen is None else seen
    if id(func) in seen:
        return False
    seen.add(id(func))
    try:
        source = inspect.getsource(func)
    except (OSError, TypeError):
        return False
    if any(call in source for call in _STARTS_A_PROCESS):
        return True
    module = getattr(func, "__module__", None)
    names = getattr(func, "__globals__", {})
    for name in set(re.findall(r"\b([A-Za-z_]\w*)\(", source)):
        callee = names.get(name)
        own = (inspect.isfunction(callee) or inspect.isclass(callee)) and callee.__module__ == module
        if own and _starts_a_process(callee, seen):
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test `integration` when it or a fixture it uses starts a process, else `unit` (unless `slow`)."""
    for item in items:
        if item.get_closest_marker("integration") is None:
            info = getattr(item, "_fixtureinfo", None)
            funcs = [getattr(item, "obj", None)]
            if info is not None:
                funcs += [d.func for name in item.fixturenames for d in info.name2fixturedefs.get(name, ())]
            if any(_starts_a_process(f) for f in funcs):
                item.add_marker(pytest.mark.integration)
        if item.get_closest_marker("integration") is None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.unit)
