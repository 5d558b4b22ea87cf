"""A small HTTP client for the Partnership Knowledge Assistant API.

The UI talks to the API over HTTP only: this module imports nothing from the rest of the project.
Every failure becomes one of two exceptions the UI knows how to show:

- ``ApiUnavailable``: the API could not be reached at all (connection refused, DNS, timeout).
- ``ApiError``: the API answered with a 4xx/5xx; ``code`` and ``status`` say what went wrong.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import httpx_sse

DEFAULT_API_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 120.0


class ApiUnavailable(Exception):
    """The API could not be reached."""

    def __init__(self, message: str, base_url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.base_url = base_url


class ApiError(Exception):
    """The API answered with an error status."""

    def __init__(self, message: str, *, status: int = 0, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    @property
    def empty_knowledge_base(self) -> bool:
        return self.code == "empty_knowledge_base"

    @property
    def not_found(self) -> bool:
        return self.status == 404


def clean_filters(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop empty values; None when nothing is left (the API then searches everything)."""
    if not filters:
        return None
    out: dict[str, Any] = {}
    for key, value in filters.items():
        if value is None or value == "" or value == [] or value == ():
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out or None


class ApiClient:
    """Synchronous client; ``transport`` lets tests plug in ``httpx.MockTransport``."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "pka-ui/0.1"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, headers=headers, timeout=httpx.Timeout(timeout, connect=5.0)
        )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **kwargs: Any) -> ApiClient:
        env = os.environ if environ is None else environ
        base = env.get("PKA_API_URL") or DEFAULT_API_URL
        key = env.get("PKA_API_KEY") or None
        return cls(base, api_key=key, **kwargs)

    def close(self) -> None:
        self._http.close()

    # -- endpoints -------------------------------------------------------------------------------------------------

    def ask(
        self, question: str, *, history: list[dict[str, str]] | None = None, filters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body = {"question": question, "history": list(history or []), "filters": clean_filters(filters)}
        return self._request("POST", "/ask", json=body)

    def ask_stream(
        self, question: str, *, history: list[dict[str, str]] | None = None, filters: dict[str, Any] | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """POST /ask?stream=true. Yields ("token", {"text"}) as the model writes, ("reset", {}) when a retry
        voids the text so far, and last ("answer", the full response, citations checked). An API that does not
        stream answers with plain JSON: that is yielded as the answer. Errors raise ApiError/ApiUnavailable.
        """
        body = {"question": question, "history": list(history or []), "filters": clean_filters(filters)}
        headers = {"Accept": "text/event-stream, application/json"}
        with (
            self._reachable(),
            self._http.stream("POST", "/ask", params={"stream": "true"}, json=body, headers=headers) as response,
        ):
            if response.status_code >= 400:
                response.read()
                raise _error_from(response)
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                response.read()
                try:
                    yield "answer", response.json()
                except ValueError as exc:
                    raise ApiError("The assistant sent a reply that is not JSON.", status=200) from exc
                return
            for event, data in _sse_events(response):
                if event == "error":
                    raise ApiError(
                        str(data.get("message") or "The assistant could not finish the answer."),
                        status=int(data.get("status") or 500),
                        code=str(data.get("error") or ""),
                    )
                yield event, data
                if event == "answer":
                    return
        raise ApiError("The answer stream ended before the answer arrived.", status=502, code="stream_incomplete")

    def search(
        self,
        query: str,
        *,
        top_k: int = 5,
        filters: dict[str, Any] | None = None,
        history: list[dict[str, str]] | None = None,
    ) -> dict[str, Any]:
        body = {"query": query, "top_k": top_k, "filters": clean_filters(filters), "history": list(history or [])}
        return self._request("POST", "/search", json=body)

    def documents(self) -> list[dict[str, Any]]:
        return self._request("GET", "/documents")

    def document(self, document_id: str) -> dict[str, Any]:
        # Ids may contain "/" (sub-folders); keep it, quote everything else.
        return self._request("GET", "/documents/" + quote(document_id.lstrip("/"), safe="/"))

    def glossary(self) -> list[dict[str, Any]]:
        data = self._request("GET", "/glossary")
        return list(data.get("terms", [])) if isinstance(data, dict) else []

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health")

    def feedback(
        self,
        *,
        question: str,
        answer: str,
        citations: list[str],
        rating: str,
        comment: str = "",
    ) -> dict[str, Any]:
        if rating not in ("up", "down"):
            raise ValueError("rating must be 'up' or 'down'")
        body = {"question": question, "answer": answer, "citations": citations, "rating": rating, "comment": comment}
        return self._request("POST", "/feedback", json=body)

    # -- plumbing --------------------------------------------------------------------------------------------------

    def reviews(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/reviews")["reviews"])

    def themes(self) -> dict[str, Any]:
        return dict(self._request("GET", "/themes"))

    def briefing(self, *, review: str | None = None, theme: str | None = None) -> dict[str, Any]:
        body = {k: v for k, v in (("review", review), ("theme", theme)) if v}
        return dict(self._request("POST", "/briefing", json=body))

    def briefing_pdf(self, *, review: str | None = None, theme: str | None = None) -> bytes:
        body = {k: v for k, v in (("review", review), ("theme", theme)) if v}
        return self._send("POST", "/briefing", json={**body, "format": "pdf"}).content

    @contextlib.contextmanager
    def _reachable(self) -> Iterator[None]:
        """Turn transport failures into ApiUnavailable with a plain message."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise ApiUnavailable(
                f"The assistant at {self.base_url} took too long to answer ({type(exc).__name__}).", self.base_url
            ) from exc
        except httpx.TransportError as exc:
            raise ApiUnavailable(
                f"Could not reach the assistant at {self.base_url} ({type(exc).__name__}).", self.base_url
            ) from exc

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with self._reachable():
            response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError("The assistant sent a reply that is not JSON.", status=response.status_code) from exc


def _sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, JSON data) for each server-sent event, parsed by httpx-sse; events whose data is not a JSON object
    (keep-alives, comments) are skipped."""
    for sse in httpx_sse.EventSource(response).iter_sse():
        try:
            payload = json.loads(sse.data) if sse.data else None
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            yield sse.event or "message", payload


def _error_from(response: httpx.Response) -> ApiError:
    code, message = "", ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error") or "")
        message = str(body.get("message") or body.get("detail") or "")
    if not message:
        message = f"The assistant answered with HTTP {response.status_code}."
    return ApiError(message, status=response.status_code, code=code)
