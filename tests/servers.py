"""Start real servers on 127.0.0.1 for tests, and always stop them."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def api_server(
    env: dict[str, str], *, timeout: float = 90.0, workers: int = 1, log_path: Path | None = None
) -> Iterator[str]:
    """Run `pka serve` in a subprocess; yield its base URL once /health answers. Its log goes to a temp file (or to
    log_path, for a test that reads it)."""
    port = free_port()
    full_env = {**os.environ, **env}
    # The server's log goes to a file: a pipe nobody reads fills up and blocks the server.
    log = log_path.open("w+b") if log_path is not None else tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pka_cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                out = log.read().decode(errors="replace")
                raise RuntimeError(f"server exited with {proc.returncode}:\n{out[-3000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy in time")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def run_cli(args: list[str], env: dict[str, str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pka_cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


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
