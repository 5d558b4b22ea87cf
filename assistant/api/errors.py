"""The API's error body, built in one place: `{"error": code, "message": text}`, plus `details` on a 422 and
`status` in a stream's `error` event. The exception handlers below, the middlewares (assistant.api.middleware,
assistant.api.crosssite) and the HTTP protocol's malformed-request answer (assistant.api.protocol) all use it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from core.errors import PKAError

log = logging.getLogger(__name__)
INTERNAL_ERROR = "internal_error"
INTERNAL_MESSAGE = "Something went wrong on our side."


class ErrorBody(BaseModel):
    error: str
    message: str


class FieldProblem(BaseModel):
    field: str
    problem: str


class InvalidRequest(ErrorBody):
    """A 422: which fields were wrong, and how."""

    details: list[FieldProblem]


class StreamError(ErrorBody):
    """The `error` event ending a stream that had already begun: the status it would have had."""

    status: int


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def error_response(
    status: int, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(status_code=status, content=error_body(code, message, **extra), headers=headers)


def error_response_for(exc: PKAError, *, headers: dict[str, str] | None = None) -> JSONResponse:
    """One of our errors as its response: its status, its code, its message."""
    return error_response(exc.http_status, exc.code, str(exc), headers=headers)


def error_of(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """The status and body an exception is answered with: our errors say what went wrong, anything else does not."""
    if isinstance(exc, PKAError):
        return exc.http_status, error_body(exc.code, str(exc))
    return 500, error_body(INTERNAL_ERROR, INTERNAL_MESSAGE)


def install_error_handlers(app: FastAPI) -> None:
    """Every error a route raises becomes a JSON error body; no traceback reaches a client."""

    @app.exception_handler(PKAError)
    async def _pka_error(_: Request, exc: PKAError) -> JSONResponse:
        status, body = error_of(exc)
        return JSONResponse(status_code=status, content=body)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details[:5])
        return error_response(422, "invalid_request", summary, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, "http_error", str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        status, body = error_of(exc)
        return JSONResponse(status_code=status, content=body)
