"""uvicorn's HTTP protocols, with two changes: a request too malformed to reach the app gets the API's JSON error
body, and a connection that does not finish sending a request's headers in time is closed.

uvicorn answers a malformed request itself (bad request
line, bad headers) with a plain-text 400 and closes the connection; these subclasses write the same 400 as JSON.
uvicorn also never closes a connection that sends nothing, or that sends a header a byte at a time (each byte
re-arms its keep-alive timer), so a few hundred such sockets hold the server; here the headers of each request must
be complete within PKA_HEADER_TIMEOUT_S of the connection opening or of the previous response ending. `pka serve`
passes protocol_class().
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from assistant.api.errors import error_body
from core.config import get_settings
from core.errors import BadInput


def _json_400(transport: asyncio.Transport, msg: str) -> None:
    body = json.dumps(error_body(BadInput.code, f"Malformed HTTP request: {msg}")).encode()
    head = (
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
    )
    transport.write(head + body)
    transport.close()


class _HeaderDeadline:
    """Mixed into a uvicorn protocol: close the connection unless a new request's headers arrive in time.

    Both protocols make a new `self.cycle` once a request's headers are complete, so the deadline is met when the
    cycle differs from the one current when it was armed; it is armed on connect and before each response ends.
    """

    transport: asyncio.Transport
    cycle: Any
    loop: asyncio.AbstractEventLoop
    _header_deadline: asyncio.TimerHandle | None = None

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        if getattr(self, "pipeline", None):  # httptools: the next request's headers are already in
            return
        armed_for = self.cycle

        def expire() -> None:
            if self.cycle is armed_for and not self.transport.is_closing():
                self.transport.close()

        self._header_deadline = self.loop.call_later(get_settings().header_timeout_s, expire)

    def _disarm_header_deadline(self) -> None:
        handle = self._header_deadline
        if handle is not None:
            handle.cancel()
            self._header_deadline = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        self._arm_header_deadline()  # before: handling a pipelined request replaces the cycle
        super().on_response_complete()  # type: ignore[misc]

    def send_400_response(self, msg: str) -> None:
        _json_400(self.transport, msg)


class JsonH11Protocol(_HeaderDeadline, H11Protocol):
    pass


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional: uvicorn then uses h11
    HttpToolsProtocol = None  # type: ignore[assignment,misc]


def protocol_class() -> type[asyncio.Protocol]:
    """The protocol uvicorn's "auto" would pick (httptools when installed, else h11), answering 400s as JSON."""
    if HttpToolsProtocol is None:
        return JsonH11Protocol
    return JsonHttpToolsProtocol


if HttpToolsProtocol is not None:

    class JsonHttpToolsProtocol(_HeaderDeadline, HttpToolsProtocol):
        pass
