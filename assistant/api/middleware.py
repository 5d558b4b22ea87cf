"""Pure ASGI middleware: API keys, a limit on the request body, CORS, trusted hosts and relative redirects. Every
refusal answers with the API's JSON error body.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit, urlunsplit

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api.errors import error_response, error_response_for
from assistant.security import check_access, presented_key
from core.errors import BadInput, PayloadTooLarge


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return error_response(status, code, message, headers=headers)


class AccessMiddleware:
    """Refuse a request without a valid key (401) or an admin route with a read key (403)."""

    def __init__(self, app: ASGIApp, *, read_keys: tuple[str, ...], admin_keys: tuple[str, ...]) -> None:
        self.app = app
        self.read_keys = read_keys
        self.admin_keys = admin_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (not self.read_keys and not self.admin_keys):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        denied = check_access(scope.get("path", ""), presented_key(headers), self.read_keys, self.admin_keys)
        if denied is None:
            await self.app(scope, receive, send)
            return
        extra = {"WWW-Authenticate": "Bearer"} if denied.status == 401 else None
        await _error(denied.status, denied.code, denied.message, extra)(scope, receive, send)


class BodyLimitMiddleware:
    """Read at most `limit` bytes of a request body; a bigger one gets 413 before the app sees it, and one not
    complete within `timeout` seconds (a client sending it a byte at a time) gets 408."""

    def __init__(self, app: ASGIApp, *, limit: int, timeout: float | None = None) -> None:
        self.app = app
        self.limit = limit
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await error_response_for(BadInput("Content-Length is not a number."))(scope, receive, send)
                    return
                if declared > self.limit:
                    await self._too_large(scope, receive, send)
                    return
        # Buffer the body (it is small by construction), counting as it comes: chunked bodies have no length.
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body = message.get("body", b"")
                    size += len(body)
                    if size > self.limit:
                        await self._too_large(scope, receive, send)
                        return
                    chunks.append(body)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            message_text = f"The request body did not arrive within {self.timeout:g} s (PKA_BODY_TIMEOUT_S)."
            await _error(408, "request_timeout", message_text, {"Connection": "close"})(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        too_large = PayloadTooLarge(f"The request body is over the limit of {self.limit} bytes.")
        await error_response_for(too_large)(scope, receive, send)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight answers with the API's JSON error body, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode("utf-8", "replace")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        return _error(response.status_code, "cors_refused", f"CORS preflight refused: {reason}.", headers)


class TrustedHostMiddleware:
    """Refuse a Host header outside PKA_TRUSTED_HOSTS (400, JSON): `*` allows any, `*.example.org` a domain's hosts."""

    def __init__(self, app: ASGIApp, *, hosts: tuple[str, ...]) -> None:
        self.app = app
        self.any = not hosts or "*" in hosts
        self.hosts = tuple(h.lower() for h in hosts)

    def _allowed(self, host: str) -> bool:
        for pattern in self.hosts:
            if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
                return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = Headers(scope=scope).get("host", "")
        host = raw.lower()
        host = host[: host.rindex("]") + 1] if host.startswith("[") and "]" in host else host.split(":")[0]
        if self._allowed(host):
            await self.app(scope, receive, send)
            return
        message = f"Host {raw!r} is not served here (PKA_TRUSTED_HOSTS)."
        await _error(400, "untrusted_host", message)(scope, receive, send)


class RelativeRedirectMiddleware:
    """Make redirects to this server relative, so a forged Host header is never echoed back in a Location."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_relative(message: Message) -> None:
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400:
                headers = []
                for name, value in message.get("headers", []):
                    if name.lower() == b"location":
                        parts = urlsplit(value.decode("latin-1"))
                        if parts.scheme in ("http", "https"):  # ours: a redirect elsewhere is never made here
                            value = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment)).encode()
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_relative)
