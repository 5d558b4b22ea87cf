"""The write side's jobs the admin routes run (ingest the knowledge folder; hold the data folder's ingest lock),
passed to create_app by the entry point, so the API package imports no ingest code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import StoreUnavailable


@dataclass(frozen=True)
class IngestJobs:
    run: Callable[[Any], Any]  # (service) -> the ingest report (files, added, updated, ... as ingest reports them)
    lock: Callable[[Path], AbstractContextManager[Any]]  # the data folder's ingest lock, by the lock file's path


def jobs_of(state: Any) -> IngestJobs:
    """The jobs create_app was given (kept on the app's state), or a 503 saying there are none."""
    jobs: IngestJobs | None = getattr(state, "ingest", None)
    if jobs is None:
        raise StoreUnavailable("This server runs without the ingest job; run `pka ingest` instead.")
    return jobs
