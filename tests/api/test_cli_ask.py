"""`pka ask`: asks a running API over HTTP when there is one (a real `pka serve` on 127.0.0.1), otherwise answers
in its own process, and says which, and why."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ROOT, api_server, free_port, ingested_fixture_corpus

QUESTION = "What did the Child Q rapid review teach?"


def ask(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `pka ask` with exactly these PKA_ settings: none leak in from the caller's environment or a .env."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PKA_")}
    return subprocess.run(
        [sys.executable, "-m", "pka_cli", "ask", *args],
        cwd=ROOT,
        env={**base, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, str]:
    env, _ = ingested_fixture_corpus(tmp_path_factory.mktemp("ask"))
    return env


@pytest.fixture(scope="module")
def api(corpus) -> str:
    with api_server(corpus) as url:
        yield url


def port_of(url: str) -> str:
    return url.rsplit(":", 1)[1]


def test_named_api_answers_even_when_this_machine_has_no_store(api: str, tmp_path: Path) -> None:
    # The command's own data folder is empty: only the API can have given this answer.
    env = {"PKA_API_URL": api, "PKA_DATA_DIR": str(tmp_path / "empty"), "PKA_EMBEDDING_BACKEND": "hashing"}
    result = ask([QUESTION], env)
    assert result.returncode == 0, result.stderr
    assert "non-mobile baby" in result.stdout and "[1] Child Q" in result.stdout
    assert f"Mode: extractive; answered by the API at {api}" in result.stdout
    assert not (tmp_path / "empty").exists()  # nothing was opened locally


def test_configured_port_is_used_when_it_serves_the_same_store(api: str, corpus: dict[str, str]) -> None:
    result = ask([QUESTION, "--json"], {**corpus, "PKA_API_PORT": port_of(api)})
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["mode"] == "extractive" and "non-mobile baby" in body["answer"]
    assert f"answered by the API at http://127.0.0.1:{port_of(api)}" in result.stderr


def test_an_api_serving_another_store_is_not_used(api: str, corpus: dict[str, str], tmp_path: Path) -> None:
    copy = tmp_path / "data-copy"
    shutil.copytree(corpus["PKA_DATA_DIR"], copy)
    result = ask([QUESTION], {**corpus, "PKA_DATA_DIR": str(copy), "PKA_API_PORT": port_of(api)})
    assert result.returncode == 0, result.stderr
    assert "non-mobile baby" in result.stdout
    assert "answered here: the API at" in result.stdout and "serves another knowledge base" in result.stdout


def test_without_an_api_it_answers_here_and_says_why(corpus: dict[str, str]) -> None:
    port = free_port()
    result = ask([QUESTION], {**corpus, "PKA_API_PORT": str(port)})
    assert result.returncode == 0, result.stderr
    assert "non-mobile baby" in result.stdout
    assert f"answered here: no API answered at http://127.0.0.1:{port}" in result.stdout


def test_local_flag_skips_the_api(api: str, corpus: dict[str, str]) -> None:
    result = ask([QUESTION, "--local"], {**corpus, "PKA_API_URL": api})
    assert result.returncode == 0, result.stderr
    assert "answered here (--local)" in result.stdout


def test_a_question_the_api_refuses_is_a_plain_error(api: str, tmp_path: Path) -> None:
    env = {"PKA_API_URL": api, "PKA_DATA_DIR": str(tmp_path / "empty"), "PKA_EMBEDDING_BACKEND": "hashing"}
    result = ask(["x" * 2500], env)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: ") and "Traceback" not in result.stderr


def test_generative_fallback_is_reported_with_its_reason(corpus: dict[str, str]) -> None:
    # An LLM endpoint nobody listens on: the API falls back to the extractive answer and says why.
    dead_llm = f"http://127.0.0.1:{free_port()}/v1"
    with api_server({**corpus, "PKA_LLM_BASE_URL": dead_llm, "PKA_LLM_TIMEOUT_S": "2"}) as url:
        result = ask(["How many rapid reviews were held?"], {**corpus, "PKA_API_URL": url})
    assert result.returncode == 0, result.stderr
    assert "9 rapid reviews were held" in result.stdout
    mode_line = next(line for line in result.stdout.splitlines() if line.startswith("Mode: "))
    assert mode_line.startswith("Mode: extractive (the generative answer was not used: llm_"), mode_line
    assert f"answered by the API at {url}" in mode_line


@pytest.mark.slow
def test_the_real_model_loads_quietly(tmp_path: Path, knowledge: Path) -> None:
    env = {"PKA_KNOWLEDGE_DIR": str(knowledge), "PKA_DATA_DIR": str(tmp_path / "data")}
    base = {k: v for k, v in os.environ.items() if not k.startswith("PKA_")}
    ingest = subprocess.run(
        [sys.executable, "-m", "pka_cli", "ingest"],
        cwd=ROOT,
        env={**base, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    result = ask([QUESTION, "--local"], env)
    assert result.returncode == 0, result.stderr
    assert "non-mobile baby" in result.stdout
    assert "Loading" not in result.stderr and "it/s" not in result.stderr and "%|" not in result.stderr, result.stderr


def test_which_api_is_asked() -> None:
    from assistant.remote import api_target
    from core.config import Settings

    def target(**kw: object):  # type: ignore[no-untyped-def]
        return api_target(Settings(_env_file=None, **kw))  # type: ignore[call-arg]  # pydantic-settings init kwarg

    assert target() == target(api_port=8000)
    assert target().url == "http://127.0.0.1:8000" and not target().explicit
    assert target(api_host="0.0.0.0", api_port=9001).url == "http://127.0.0.1:9001"  # listening everywhere
    assert target(api_host="::1").url == "http://[::1]:8000"
    named = target(api_url="http://10.0.0.5:8000/")
    assert named.url == "http://10.0.0.5:8000" and named.explicit  # PKA_API_URL: used as given
    assert api_target(Settings(_env_file=None), "http://h:1").explicit  # type: ignore[call-arg]


def test_store_fingerprint_follows_the_store_not_the_spelling(tmp_path: Path) -> None:
    from core.config import Settings

    def fp(**kw: object) -> str:
        return Settings(_env_file=None, **kw).store_id  # type: ignore[call-arg]  # pydantic-settings init kwarg

    assert fp(data_dir=tmp_path / "d") == fp(data_dir=tmp_path / "x" / ".." / "d")
    assert fp(data_dir=tmp_path / "d") != fp(data_dir=tmp_path / "e")
    assert fp(data_dir=tmp_path / "d", collection="other") != fp(data_dir=tmp_path / "d")
    assert fp(chroma_host="db", chroma_port=8001) != fp(chroma_host="db", chroma_port=8002)
    assert str(tmp_path) not in fp(data_dir=tmp_path / "d")  # a fingerprint, not the path
