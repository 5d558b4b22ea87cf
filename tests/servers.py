"""Start real servers on 127.0.0.1 for tests, and always stop them (the process helpers live in testing/)."""

from __future__ import annotations

import shutil
from pathlib import Path

from testing.servers import ROOT, api_server, background_process, free_port, run_cli

__all__ = ["ROOT", "api_server", "background_process", "free_port", "ingested_fixture_corpus", "run_cli"]


def ingested_fixture_corpus(tmp: Path, extra: dict[str, str] | None = None) -> tuple[dict[str, str], str]:
    """Copy the fixture corpus (and the real glossary) under `tmp`, add `extra` files, run `pka ingest` with the
    hashing embedder, and return the environment that points at it with the ingest's output."""
    knowledge = tmp / "knowledge"
    shutil.copytree(ROOT / "tests" / "fixtures" / "knowledge", knowledge)
    shutil.copy(ROOT / "knowledge" / "glossary.yaml", knowledge / "glossary.yaml")
    for name, text in (extra or {}).items():
        (knowledge / name).write_text(text, encoding="utf-8")
    env = {"PKA_KNOWLEDGE_DIR": str(knowledge), "PKA_DATA_DIR": str(tmp / "data"), "PKA_EMBEDDING_BACKEND": "hashing"}
    result = run_cli(["ingest"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    return env, result.stdout
