"""Start a server in a subprocess on 127.0.0.1, wait until it answers, and always stop it.

Used by tests/ and bench/; it imports nothing from the product or from tests, so either may import it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-3000:]


@contextlib.contextmanager
def background_process(
    cmd: Sequence[str],
    ready_url: str,
    *,
    name: str = "server",
    timeout: float = 90.0,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.3,
    log_path: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `cmd`; yield the process once GET `ready_url` answers 200. Stop it (terminate, then kill) on exit.

    Raises RuntimeError with the end of the process's log when it exits early or does not answer within `timeout`.
    The log goes to a temp file (or to `log_path`, for a caller that reads it): a pipe nobody reads fills up and
    blocks the process.
    """
    log = log_path.open("w+b") if log_path is not None else tempfile.TemporaryFile()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer {ready_url} within {timeout:.0f} s:\n{_tail(log)}")
            time.sleep(interval)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


@contextlib.contextmanager
def api_server(
    env: dict[str, str], *, timeout: float = 90.0, workers: int = 1, log_path: Path | None = None
) -> Iterator[str]:
    """Run `pka serve` in a subprocess; yield its base URL once /health answers (its log to `log_path` if given)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "pka_cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers)]
    with background_process(
        cmd, f"{url}/health", name="pka serve", timeout=timeout, env=env, cwd=ROOT, log_path=log_path
    ):
        yield url


def run_cli(args: list[str], env: dict[str, str], *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `pka ARGS` in a subprocess from the checkout and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "pka_cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
