"""Settings, .env.example and the command line."""

from __future__ import annotations

import re
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


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"llm_base_url": "http://x/v1", "llm_timeout_s": 40, "request_timeout_s": 30}, "PKA_LLM_TIMEOUT_S (40)"),
        ({"llm_base_url": "http://x/v1", "llm_timeout_s": 30, "request_timeout_s": 30}, "must be below"),
        ({"llm_base_url": "http://x/v1", "llm_sources": 9, "answer_passages": 8}, "PKA_LLM_SOURCES (9)"),
        ({"max_question_chars": 5000, "max_request_bytes": 4096}, "PKA_MAX_QUESTION_CHARS (5000)"),
        ({"api_port": 8600, "ui_port": 8600}, "PKA_API_PORT and PKA_UI_PORT are both 8600"),
    ],
)
def test_settings_that_do_not_work_together_are_refused(values: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings(**values, _env_file=None)


def test_llm_settings_are_checked_only_with_an_llm() -> None:
    s = Settings(llm_timeout_s=40, request_timeout_s=30, llm_sources=9, answer_passages=8, _env_file=None)
    assert s.llm_base_url == ""  # without one, the LLM's timeout and sources are never used


def test_every_conflict_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        Settings(api_port=8600, ui_port=8600, chunk_min_chars=900, chunk_max_chars=500, _env_file=None)
    assert "PKA_API_PORT" in str(info.value) and "PKA_CHUNK_MIN_CHARS" in str(info.value)


def test_settings_conflicts_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("PKA_LLM_BASE_URL", "http://127.0.0.1:1/v1")
    monkeypatch.setenv("PKA_LLM_TIMEOUT_S", "60")
    with pytest.raises(ValidationError, match="PKA_REQUEST_TIMEOUT_S"):
        Settings(_env_file=None)


def test_cli_reports_conflicting_settings_plainly(tmp_path) -> None:
    env = {"PKA_DATA_DIR": str(tmp_path / "d"), "PKA_LLM_BASE_URL": "http://127.0.0.1:1/v1", "PKA_LLM_TIMEOUT_S": "60"}
    result = run_cli(["feedback", "export"], env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "PKA_LLM_TIMEOUT_S (60) must be below PKA_REQUEST_TIMEOUT_S (30)" in result.stderr
    result = run_cli(["feedback", "export"], {**env, "PKA_LLM_TIMEOUT_S": "nonsense"})
    assert result.returncode == 2 and "PKA_LLM_TIMEOUT_S: Input should be a valid number" in result.stderr


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
