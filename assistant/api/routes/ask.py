"""POST /search and POST /ask (with ?stream=true, the answer as server-sent events, sse-starlette)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sse_starlette import EventSourceResponse, JSONServerSentEvent

from assistant.api.deps import ServiceDep, check_text, history_of, timeout_message, with_timeout
from assistant.api.errors import ErrorBody, error_of
from assistant.api.models import AskRequest, AskResponse, SearchRequest, SearchResponse, SearchResult
from assistant.generate import RESET
from assistant.service import AssistantService
from core.errors import PKAError, RequestTimeout
from core.types import Answer

log = logging.getLogger(__name__)
router = APIRouter(tags=["questions"])
_SEP = "\n"  # events end in a blank line of bare LFs, as the UI's httpx-sse client and older clients read them
_STREAM_DOC = (
    "With ?stream=true: server-sent events `token` ({text}), `reset` (a retry began: drop the text so far), "
    "then one `answer` (the AskResponse, citations enforced) or `error` (an ErrorBody with its `status`)."
)


@router.post("/search", response_model=SearchResponse, responses={504: {"model": ErrorBody}})
async def search(body: SearchRequest, service: ServiceDep) -> SearchResponse:
    check_text(body.query, service.settings.max_question_chars)
    history = history_of(body, service)
    hits = await with_timeout(
        service, lambda: service.search(body.query, top_k=body.top_k, filters=body.filters, history=history)
    )
    return SearchResponse(
        query=body.query,
        results=[
            SearchResult(
                chunk_id=h.chunk.chunk_id,
                document_id=h.chunk.doc_id,
                title=h.chunk.title,
                doc_type=h.chunk.doc_type,
                partnership=h.chunk.partnership,
                section=h.chunk.section,
                page=h.chunk.page,
                text=h.chunk.text,
                score=round(h.score, 6),
                start=h.chunk.start,
                end=h.chunk.end,
            )
            for h in hits
        ],
    )


@router.post(
    "/ask",
    response_model=AskResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": _STREAM_DOC},
        504: {"model": ErrorBody},
    },
)
async def ask(
    body: AskRequest,
    service: ServiceDep,
    stream: Annotated[bool, Query(description="Stream the answer as server-sent events.")] = False,
) -> Response | AskResponse:
    check_text(body.question, service.settings.max_question_chars)
    history = history_of(body, service)
    if stream:
        return await _ask_stream(body, service, history)
    answer = await with_timeout(service, lambda: service.ask(body.question, history=history, filters=body.filters))
    return _ask_response(answer, body)


def _ask_response(answer: Answer, body: AskRequest) -> AskResponse:
    return AskResponse(**answer.model_dump(exclude={"question"}), question=body.question, filters=body.filters)


async def _ask_stream(body: AskRequest, service: AssistantService, history: list[dict[str, str]]) -> Response:
    """The model's tokens as they arrive, then the validated answer as one `answer` event.

    The answer is worked out in a thread; its tokens come back through an asyncio queue. An error before the first
    event is an ordinary JSON error (e.g. 503 for an empty knowledge base, 504 past PKA_REQUEST_TIMEOUT_S); after
    it, an `error` event. Without an LLM the stream is the one `answer` event.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    limit = service.settings.request_timeout_s
    deadline = loop.time() + limit

    def put(item: tuple[str, Any]) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody is listening any more
            pass

    def on_token(text: str) -> None:
        put(("reset", "") if text == RESET else ("token", text))

    def work() -> None:
        try:
            put(("answer", service.ask(body.question, history=history, filters=body.filters, on_token=on_token)))
        except PKAError as exc:
            put(("error", exc))
        except Exception as exc:  # the thread must always report back
            log.exception("unhandled error in a streamed answer")
            put(("error", exc))

    threading.Thread(target=work, name="ask-stream", daemon=True).start()

    async def next_item() -> tuple[str, Any]:
        try:
            return await asyncio.wait_for(queue.get(), timeout=max(deadline - loop.time(), 0.001))
        except TimeoutError:
            return ("error", RequestTimeout(timeout_message(limit)))

    first = await next_item()
    if first[0] == "error":
        raise first[1]  # answered as JSON by the error handlers, with its status

    async def events() -> AsyncIterator[JSONServerSentEvent]:
        item = first
        while True:
            kind, payload = item
            if kind == "token":
                yield _event("token", {"text": payload})
            elif kind == "reset":
                yield _event("reset", {})
            elif kind == "answer":
                yield _event("answer", _ask_response(payload, body).model_dump(mode="json"))
                return
            else:
                status, error = error_of(payload)
                yield _event("error", {**error, "status": status})
                return
            item = await next_item()

    return EventSourceResponse(events(), sep=_SEP, headers={"Cache-Control": "no-cache"})


def _event(name: str, data: dict[str, Any]) -> JSONServerSentEvent:
    return JSONServerSentEvent(data, event=name, sep=_SEP)
