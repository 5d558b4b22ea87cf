"""scripts/up.sh and scripts/install.sh, run for real (the install skipped, or against a stand-in pip), on a temp
knowledge folder, data folder and free ports."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import ROOT, free_port

FIXTURES = ROOT / "tests" / "fixtures" / "knowledge"


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Up:
    """scripts/up.sh in its own process group; its output read line by line as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PKA_")}
        self.proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "up.sh")],
            cwd=ROOT,
            env={**base, "PKA_SKIP_INSTALL": "1", "PKA_VENV": sys.prefix, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, prefix: str, timeout: float = 300) -> str | None:
        """The first line starting with `prefix`, or None when the script ends first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                return None
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no {prefix!r} within {timeout} s; output so far:\n" + "\n".join(self.seen))

    def output(self) -> str:
        self.until("\0never", timeout=120)
        return "\n".join(self.seen)

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal does
        try:
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)


def up_env(tmp: Path, knowledge: Path) -> dict[str, str]:
    return {
        "PKA_KNOWLEDGE_DIR": str(knowledge),
        "PKA_DATA_DIR": str(tmp / "data"),
        "PKA_EMBEDDING_BACKEND": "hashing",
        "PKA_API_PORT": str(free_port()),
        "PKA_UI_PORT": str(free_port()),
    }


@pytest.mark.slow
def test_up_serves_what_ingested_and_reports_the_bad_file(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURES, knowledge)
    (knowledge / "scan.pdf").write_bytes(b"not a pdf at all")
    env = up_env(tmp_path, knowledge)
    api_port, ui_port = int(env["PKA_API_PORT"]), int(env["PKA_UI_PORT"])
    up = Up(env)
    try:
        line = up.until("API on ")
        assert line is not None, "\n".join(up.seen)
        # announced only once it answers: /health answers at the moment the line is printed
        assert line.startswith(f"API on http://127.0.0.1:{api_port} ")
        health = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=5)
        assert health.status_code == 200 and health.json()["documents"] == 3
        line = up.until("UI on ")
        assert line == f"UI on http://127.0.0.1:{ui_port}"
        assert httpx.get(f"http://127.0.0.1:{ui_port}/_stcore/health", timeout=5).status_code == 200
        assert up.until("Ready.") is not None
        text = "\n".join(up.seen)
        assert "up: some files could not be ingested" in text
        assert "Not ingested" in text and "  FAILED  scan.pdf: is not a PDF" in text
        question = {"question": "What did the Child Q rapid review teach?"}
        answer = httpx.post(f"http://127.0.0.1:{api_port}/ask", json=question, timeout=60)
        assert answer.status_code == 200 and "non-mobile baby" in answer.json()["answer"]
    finally:
        rc = up.stop()
    assert rc != 0  # stopped by Ctrl-C
    assert not listening(api_port) and not listening(ui_port)  # both servers went with it


@pytest.mark.slow
def test_up_stops_when_nothing_ingested(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "scan.pdf").write_bytes(b"not a pdf at all")
    env = up_env(tmp_path, knowledge)
    up = Up(env)
    try:
        text = up.output()
        rc = up.proc.wait(timeout=60)
    finally:
        up.stop()
    assert rc == 1, text
    assert "nothing was ingested" in text and "API on http" not in text and "UI on http" not in text
    assert not listening(int(env["PKA_API_PORT"]))


def test_up_stops_on_a_real_ingest_failure(tmp_path: Path) -> None:
    env = up_env(tmp_path, tmp_path / "no-such-folder")
    up = Up(env)
    try:
        text = up.output()
        rc = up.proc.wait(timeout=60)
    finally:
        up.stop()
    assert rc == 2, text
    assert "Error: The knowledge folder" in text and "the ingest failed (exit 2" in text
    assert "[3/4]" not in text and "API on http" not in text


def test_up_refuses_a_port_already_in_use(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURES, knowledge)
    env = up_env(tmp_path, knowledge)
    with socket.socket() as other:  # something else already serves the API port
        other.bind(("127.0.0.1", int(env["PKA_API_PORT"])))
        other.listen()
        up = Up(env)
        try:
            text = up.output()
            rc = up.proc.wait(timeout=60)
        finally:
            up.stop()
    assert rc == 1, text
    assert f"port {env['PKA_API_PORT']} on 127.0.0.1 is already in use" in text
    assert "[2/4]" not in text and not (tmp_path / "data").exists()  # stopped before ingesting anything


FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$(dirname "$0")/../calls.log"
echo "Collecting something (pretend pip)"
if [ -n "${FAIL_ON:-}" ] && [[ "$*" == *"$FAIL_ON"* ]]; then exit 3; fi
"""


def run_install(venv: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "install.sh")],
        cwd=ROOT,
        env={**os.environ, "PKA_VENV": str(venv), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def fake_venv(tmp: Path) -> Path:
    venv = tmp / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return venv


def test_install_shows_its_steps_and_pips_output_then_is_a_no_op(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path)
    result = run_install(venv)
    assert result.returncode == 0, result.stderr
    calls = (venv / "calls.log").read_text().splitlines()
    assert calls == [
        "-m pip install --disable-pip-version-check torch==2.13.0",
        "-m pip install --disable-pip-version-check -e .[dev]",
    ]  # no -q: pip's own progress is shown
    assert "install [1/2]: torch==2.13.0" in result.stdout and "install [2/2]" in result.stdout
    assert result.stdout.count("Collecting something") == 2 and "install: done in" in result.stdout
    again = run_install(venv)
    assert again.returncode == 0 and "is up to date" in again.stdout
    assert len((venv / "calls.log").read_text().splitlines()) == 2


def test_a_failed_install_is_not_stamped(tmp_path: Path) -> None:
    venv = fake_venv(tmp_path)
    result = run_install(venv, FAIL_ON="-e .[dev]")
    assert result.returncode == 3
    assert not (venv / ".pka-installed").exists()
    again = run_install(venv)  # tries again instead of calling it installed
    assert again.returncode == 0 and "install [2/2]" in again.stdout
