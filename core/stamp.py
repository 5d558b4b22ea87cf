"""How processes sharing one embedded store tell each other it changed, and how a store is reopened safely.

Chroma's embedded client keeps an in-memory view of the vector index that another process's
writes never reach: after a `pka ingest` beside a running `pka serve`, the server's reads fail ("Error finding id").
So every process that commits to the store writes a stamp file next to it (`PKA_DATA_DIR/store.stamp`, replaced
atomically, holding the writer's PID and the new version token), and a reader that finds a stamp from another
process reopens its client (ChunkStore does that, under the ReadWriteGate below).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stamp:
    pid: int
    token: str

    @property
    def ours(self) -> bool:
        return self.pid == os.getpid()


class StoreStamp:
    """The stamp file. Checking it is one stat() while nothing changed."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    def write(self, token: str) -> None:
        """Publish a commit. A failure (a full disk) is logged, not raised: the commit itself is already done."""
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(f"{os.getpid()} {token}\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            log.warning(
                "could not write the store stamp %s (%s): other processes notice the change later", self.path, exc
            )
            return
        with self._lock:
            self._seen = self._key()

    def read(self) -> Stamp | None:
        try:
            pid, token = self.path.read_text(encoding="utf-8").split()
            return Stamp(int(pid), token)
        except (OSError, ValueError):
            return None

    def changed(self) -> Stamp | None:
        """The stamp, when the file changed since the last call (or write); None when it did not."""
        key = self._key()
        with self._lock:
            if key == self._seen:
                return None
            self._seen = key
        return self.read() if key is not None else None

    def _key(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns, st.st_size


class ReadWriteGate:
    """Many threads may use the client at once; reopening it waits for them and holds new ones back.

    Re-entrant for readers: a thread already inside passes again (a read that calls another read).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._local = threading.local()

    def inside(self) -> bool:
        return getattr(self._local, "depth", 0) > 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        if self.inside():
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._readers += 1
        self._local.depth = 1
        try:
            yield
        finally:
            self._local.depth = 0
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        if self.inside():
            raise RuntimeError("cannot reopen the store from inside a read")
        with self._cond:
            while self._writer:
                self._cond.wait()
            self._writer = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()
