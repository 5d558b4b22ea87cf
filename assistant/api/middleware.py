"""Pure ASGI middleware: API keys, and a limit on the request body. Both answer with the API's JSON error body.

Imports: starlette, assistant.security.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.security import check_access, presented_key


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "message": message}, headers=headers)


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
    """Read at most `limit` bytes of a request body; a bigger one gets 413 before the app sees it."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _error(400, "bad_request", "Content-Length is not a number.")(scope, receive, send)
                    return
                if declared > self.limit:
                    await self._too_large(scope, receive, send)
                    return
        # Buffer the body (it is small by construction), counting as it comes: chunked bodies have no length.
        chunks: list[bytes] = []
        size = 0
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
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await _error(413, "payload_too_large", f"The request body is over the limit of {self.limit} bytes.")(
            scope, receive, send
        )
