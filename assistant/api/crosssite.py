"""Refuse cross-site writes: a browser form (or a page's fetch) on another site must not change anything here.

With no keys set (the default), nothing else stops a page elsewhere posting a form to
/admin/reload. On a state-changing method (POST, PUT, PATCH, DELETE):
- an `Origin` header that is neither one of the CORS origins (PKA_CORS_ORIGINS) nor this server's own origin
  (same-origin, e.g. Swagger's "Try it out") gets 403;
- a body whose content type is not JSON (a form, multipart, text/plain: what a page may send without a preflight),
  or a body with no content type at all, gets 415.
A client that sends no Origin (curl, httpx, the UI's server side) and JSON, or no body, is unaffected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from assistant.api.errors import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_json(content_type: str) -> bool:
    """`application/json`, or any `application/*+json`, parameters (charset) ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.scheme and parts.netloc else value.strip()


class CrossSiteWriteMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_origins: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(_origin(o) for o in allowed_origins)

    def _refusal(self, scope: Scope) -> JSONResponse | None:
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None:
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '').lower()}"
            if _origin(origin) not in self.allowed and _origin(origin) != own:
                message = f"Origin {origin!r} may not change anything here (PKA_CORS_ORIGINS)."
                return error_response(403, "cross_origin_refused", message)
        content_type = headers.get("content-type")
        has_body = headers.get("transfer-encoding") is not None or headers.get("content-length", "0").strip() != "0"
        if (content_type is not None and not is_json(content_type)) or (content_type is None and has_body):
            shown = content_type or "none"
            message = f"A request that changes something must send JSON (application/json), not {shown!r}."
            return error_response(415, "unsupported_media_type", message)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method", "GET") in WRITE_METHODS:
            refusal = self._refusal(scope)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
