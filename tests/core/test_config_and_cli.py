"""Settings, .env.example and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.config import Settings
from tests.servers import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"PKA_{name.upper()}=" in example, name


def test_settings_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("PKA_DATA_DIR", "/tmp/somewhere")
    monkeypatch.setenv("PKA_TOP_K", "7")
    s = Settings(_env_file=None)
    assert s.data_dir == Path("/tmp/somewhere") and s.top_k == 7


def test_comma_separated_settings_are_tuples_from_the_environment_and_dotenv(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PKA_API_KEYS", " k1, k2,,k3 ")
    monkeypatch.setenv("PKA_TRUSTED_HOSTS", "api.example.org")
    s = Settings(_env_file=None)
    assert s.api_keys == ("k1", "k2", "k3") and s.trusted_hosts == ("api.example.org",)
    assert s.admin_api_keys == () and s.cors_origins == ("http://127.0.0.1:8501", "http://localhost:8501")
    dotenv = tmp_path / ".env"
    dotenv.write_text("PKA_ADMIN_API_KEYS=a1,a2\nPKA_CORS_ORIGINS=\n")
    monkeypatch.delenv("PKA_API_KEYS")
    s = Settings(_env_file=dotenv)
    assert s.admin_api_keys == ("a1", "a2") and s.api_keys == ()
    assert s.cors_origins == ("http://127.0.0.1:8501", "http://localhost:8501")  # empty: the default
    assert Settings(_env_file=None, api_keys=["x", "y"]).api_keys == ("x", "y")


def test_unsafe_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="PKA_CHUNK_MIN_CHARS"):
        Settings(chunk_min_chars=900, chunk_max_chars=500, _env_file=None)


def test_cli_ingest_and_ask(tmp_path, knowledge) -> None:
    env = {"PKA_KNOWLEDGE_DIR": str(knowledge), "PKA_DATA_DIR": str(tmp_path / "d"), "PKA_EMBEDDING_BACKEND": "hashing"}
    (knowledge / "bad.pdf").write_bytes(b"not a pdf at all")
    result = run_cli(["ingest"], env)
    assert result.returncode == 1  # a failed file makes the exit code non-zero, the rest is ingested
    assert "FAILED  bad.pdf: is not a PDF" in result.stdout and "3 added" in result.stdout
    result = run_cli(["ask", "What did the Child Q rapid review teach?"], env)
    assert result.returncode == 0, result.stderr
    assert "non-mobile baby" in result.stdout and "Sources:" in result.stdout and "[1] Child Q" in result.stdout


def test_cli_reports_a_missing_folder_plainly(tmp_path) -> None:
    env = {
        "PKA_KNOWLEDGE_DIR": str(tmp_path / "nope"),
        "PKA_DATA_DIR": str(tmp_path / "d"),
        "PKA_EMBEDDING_BACKEND": "hashing",
    }
    result = run_cli(["ingest"], env)
    assert result.returncode == 2
    assert "Error: The knowledge folder" in result.stderr and "Traceback" not in result.stderr
