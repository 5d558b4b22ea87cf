"""testing.servers.background_process: waits for the process to answer, reports why it did not, always stops it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from testing.servers import background_process, free_port


def test_yields_once_the_process_answers_and_stops_it_after() -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with background_process(cmd, f"http://127.0.0.1:{port}/", name="http.server", timeout=60) as proc:
        assert proc.poll() is None
    assert proc.poll() is not None


def test_a_process_that_exits_early_is_reported_with_its_log() -> None:
    cmd = [sys.executable, "-c", "import sys; print('no config here'); sys.exit(3)"]
    with pytest.raises(RuntimeError, match=r"(?s)toy exited with 3.*no config here"):
        with background_process(cmd, f"http://127.0.0.1:{free_port()}/", name="toy", timeout=60):
            pytest.fail("yielded for a process that never answered")


def test_a_process_that_never_answers_is_stopped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); print('waiting', flush=True); "
    cmd = [sys.executable, "-c", code + "time.sleep(600)"]
    with pytest.raises(RuntimeError, match=r"(?s)sleeper did not answer.*waiting"):
        with background_process(cmd, f"http://127.0.0.1:{free_port()}/", name="sleeper", timeout=10, interval=0.1):
            pytest.fail("yielded for a process that never answered")
    with pytest.raises(ProcessLookupError):  # stopped and reaped
        os.kill(int(pid_file.read_text()), 0)
