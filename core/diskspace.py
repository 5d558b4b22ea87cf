"""A free-space check before writing, so that a full disk refuses a write cleanly instead of breaking the store.

Chroma and SQLite that run out of space mid-write leave a store that may not open
again until space is freed; refusing while PKA_MIN_FREE_MB is still free keeps the store at its last commit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.errors import DiskFull

_MB = 1024 * 1024


def ensure_free(path: Path, need_bytes: int, *, reserve_mb: float, what: str) -> None:
    """Raise DiskFull unless `need_bytes` fit on path's file system with `reserve_mb` to spare."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the folder may not exist yet: measure the file system it will be on
    try:
        free = shutil.disk_usage(probe).free
    except OSError:
        return  # cannot tell: let the write try (and report its own error)
    if free - need_bytes < reserve_mb * _MB:
        raise DiskFull(
            f"Not enough disk space to {what}: {free / _MB:.0f} MB free at {probe}, about {need_bytes / _MB:.1f} MB "
            f"needed and {reserve_mb:g} MB kept in reserve (PKA_MIN_FREE_MB). Free some space and try again; "
            "nothing was written."
        )
