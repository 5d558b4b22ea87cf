"""uvicorn's HTTP protocols, except that a request too malformed to reach the app gets the API's JSON error body.

Imports: stdlib, uvicorn. uvicorn answers such a request itself (bad request line, bad headers) with a plain-text
400 and closes the connection; these subclasses write the same 400 as JSON. `pka serve` passes protocol_class().
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol


def _json_400(transport: asyncio.Transport, msg: str) -> None:
    body = json.dumps({"error": "bad_request", "message": f"Malformed HTTP request: {msg}"}).encode()
    head = (
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
    )
    transport.write(head + body)
    transport.close()


class JsonH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        _json_400(self.transport, msg)


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

    class JsonHttpToolsProtocol(HttpToolsProtocol):  # type: ignore[no-redef,valid-type,misc]
        def send_400_response(self, msg: str) -> None:
            _json_400(self.transport, msg)
