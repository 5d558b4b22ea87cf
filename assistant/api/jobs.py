"""The write side's jobs the admin routes run (ingest the knowledge folder; hold the data folder's ingest lock),
passed to create_app by the entry point, so the API package imports no ingest code.

Imports: stdlib only.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class IngestJobs:
    run: Callable[[Any], Any]  # (service) -> the ingest report (files, added, updated, ... as ingest reports them)
    lock: Callable[[Path], AbstractContextManager[Any]]  # the data folder's ingest lock, by the lock file's path
