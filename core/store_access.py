"""How ChunkStore's methods use the client: reads follow other processes and retry once, writes report why they
failed. The decorators wrap ChunkStore methods (they use its _sync, _reopen, _gate, _opener, _committed).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from core.diskspace import ensure_free
from core.errors import DiskFull, PKAError, StoreReadOnly, StoreUnavailable

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from core.stamp import ReadWriteGate, StoreStamp
F = TypeVar("F", bound=Callable[..., Any])


def reads(method: F) -> F:
    """A read: first follow another process's commit (reopen), then read; a failed read reopens the client and
    tries once more, and a second failure is StoreUnavailable (503)."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self._gate.inside():
            return method(self, *args, **kwargs)
        self._sync()
        generation = self._generation
        try:
            with self._gate.reading():
                return method(self, *args, **kwargs)
        except PKAError:
            raise
        except Exception as exc:  # noqa: BLE001 - chroma raises many types; all mean "this client cannot read"
            if self._opener is None:
                raise StoreUnavailable(f"The vector store could not be read: {exc}") from exc
            log.warning(
                "a store read failed (%s: %s); reopening the store and trying once more", type(exc).__name__, exc
            )
        try:
            self._reopen("a read failed", generation)
            with self._gate.reading():
                return method(self, *args, **kwargs)
        except PKAError:
            raise
        except Exception as exc:  # noqa: BLE001 - as above
            raise StoreUnavailable(
                f"The vector store could not be read, even after reopening it: {exc}. Try again shortly; if it "
                "persists, restart the service or rebuild the store with `pka ingest --rebuild`."
            ) from exc

    return run  # type: ignore[return-value]  # same signature as the method


def writes(method: F) -> F:
    """A write: follow another process's commit first; an OS or chroma failure becomes a 503 that says why (read
    only, disk full), and a successful commit is published to other processes through the stamp."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._sync()
        try:
            with self._gate.reading():
                result = method(self, *args, **kwargs)
        except (PKAError, ValueError):
            raise
        except Exception as exc:  # noqa: BLE001 - chroma and sqlite raise many types
            raise write_error(exc) from exc
        self._committed()
        return result

    return run  # type: ignore[return-value]  # same signature as the method


def write_error(exc: BaseException) -> StoreUnavailable:
    """The 503 error for a failed write, naming a read-only store or a full disk when that is the cause."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in text or "read-only" in text:
        return StoreReadOnly(
            f"The store is read-only, so nothing could be written ({exc}). Make the data folder "
            "writable for the service and try again; the store is unchanged."
        )
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "no space" in text:
        return DiskFull(
            f"The disk is full, so the write stopped ({exc}). Free some space and try again; each "
            "document is at its last committed version."
        )
    return StoreUnavailable(f"Could not write to the vector store: {exc}")


def release_client(client: Any) -> None:
    """Stop an embedded client's system and drop it from chroma's per-process cache, so that the next client on
    the same folder reads the files afresh. A Chroma server's client has nothing to release."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient

        identifier = getattr(client, "_identifier", None)
        system = SharedSystemClient._identifier_to_system.pop(identifier, None) if identifier else None
        if system is not None:
            system.stop()
    except Exception as exc:  # noqa: BLE001 - a failed stop must not stop the reopen
        log.warning("could not release the old store client: %s", exc)


class SharedAccess:
    """ChunkStore's side of sharing one store between processes: follow others' commits, publish its own."""

    _stamp: StoreStamp | None
    _gate: ReadWriteGate
    _opener: Callable[[], Any] | None
    _generation: int
    _state: str | None
    _defer: int
    _dirty: bool
    _client: Any
    _space: Path | None
    _min_free_mb: float

    def _attach(self, client: Any) -> None:
        raise NotImplementedError

    # ---- following other processes -------------------------------------------------------------------------
    def _sync(self) -> None:
        """Reopen the client when another process published a commit this client has not seen."""
        if self._stamp is None:
            return
        found = self._stamp.changed()
        if found is None:
            return
        if found.ours:  # another store object of this process: the shared client already sees it
            self._state = None
            return
        if found.token != self._state:
            self._reopen(f"process {found.pid} committed a new version", self._generation)

    def _reopen(self, reason: str, generation: int) -> None:
        if self._opener is None:
            raise StoreUnavailable(f"The vector store changed ({reason}) and this client cannot reopen it.")
        with self._gate.writing():
            if generation != self._generation:
                return  # another thread reopened it meanwhile
            log.info("reopening the vector store: %s", reason)
            release_client(self._client)
            self._attach(self._opener())
            self._state = None
            self._generation += 1

    @contextlib.contextmanager
    def deferred_stamp(self) -> Iterator[None]:
        """Publish the commits made inside this block once, at its end (an ingest run: one notice, when done)."""
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1
            if not self._defer:
                self._publish()

    def _committed(self) -> None:
        self._dirty = True
        if not self._defer:
            self._publish()

    def _publish(self) -> None:
        if self._dirty and self._stamp is not None:
            self._stamp.write(self._state or uuid.uuid4().hex)
        self._dirty = False

    def _ensure_space(self, need_bytes: int, what: str) -> None:
        if self._space is not None:
            ensure_free(self._space, need_bytes, reserve_mb=self._min_free_mb, what=what)
