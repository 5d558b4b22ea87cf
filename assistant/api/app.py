"""The FastAPI application: create_app() builds the service once in the lifespan; one handler maps our errors
to JSON bodies with a 4xx/5xx status, and no traceback ever reaches a client.

Around the routes, outermost first: trusted hosts (PKA_TRUSTED_HOSTS), relative redirects (a Host header is never
echoed), CORS (the UI's origins only), cross-site writes refused (assistant.api.crosssite), API keys
(assistant.security), a request body limit and read timeout; every refusal is JSON,
and a query parameter a route does not declare is a 422 (assistant.api.strict). /ask and /search answer 504 after
PKA_REQUEST_TIMEOUT_S. The /admin routes need an admin key once keys are set.

Imports: fastapi, core, assistant; never ingest: the ingest job and its lock are passed in (assistant.api.jobs,
assistant.serving).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.crosssite import CrossSiteWriteMiddleware
from assistant.api.docs import add_offline_docs
from assistant.api.flagged import router as flagged_router
from assistant.api.jobs import IngestJobs, jobs_of
from assistant.api.middleware import (
    AccessMiddleware,
    BodyLimitMiddleware,
    JsonCORSMiddleware,
    RelativeRedirectMiddleware,
    TrustedHostMiddleware,
)
from assistant.api.models import (
    AskRequest,
    AskResponse,
    Deleted,
    DocumentDetail,
    DocumentSummary,
    ErrorBody,
    FailedFile,
    FeedbackCreated,
    FeedbackRequest,
    Health,
    IngestResult,
    Reloaded,
    SearchRequest,
    SearchResponse,
    SearchResult,
)
from assistant.api.safeguarding import router as safeguarding_router
from assistant.api.strict import enable_question_log, known_query_only, save_feedback
from assistant.feedback import FeedbackStore, to_csv, to_jsonl
from assistant.generate import RESET
from assistant.service import AssistantService, build_service
from core.config import Settings, get_settings
from core.errors import BadInput, NotFound, PKAError, RequestTimeout
from core.store import DocumentRecord
from core.types import Answer

log = logging.getLogger(__name__)
_MAX_DOC_ID = 1000
_MAX_NAME_BYTES = 255  # a file or folder name longer than this cannot exist (NAME_MAX)


class _DocIdConvertor(Convertor[str]):
    """Starlette's `path` with newlines too: a file name may hold one, and its document must still be reachable."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("doc_id", _DocIdConvertor())


def create_app(
    settings: Settings | None = None, *, service: AssistantService | None = None, ingest: IngestJobs | None = None
) -> FastAPI:
    """The API. `ingest` carries the write side's jobs for the admin routes (assistant.serving passes them);
    without it POST /admin/ingest and DELETE /admin/documents answer 503."""
    settings = settings or get_settings()
    if settings.log_questions:
        enable_question_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]  # FastAPI's own lifespan signature
        app.state.service = service or build_service(settings)
        app.state.feedback = FeedbackStore.in_folder(settings.data_dir, retention_days=settings.feedback_retention_days)
        try:
            app.state.service.retriever.refresh()
        except PKAError as exc:
            log.warning("index not built at start-up: %s", exc)
        yield

    app = FastAPI(
        title="Partnership Knowledge Assistant",
        description="Answers questions about the partnership's documents, citing the exact passages.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served offline below (assistant.api.docs)
        redoc_url=None,
        dependencies=[Depends(known_query_only)],
        responses={
            400: {"model": ErrorBody},
            401: {"model": ErrorBody},
            413: {"model": ErrorBody},
            422: {"model": ErrorBody},
            500: {"model": ErrorBody},
            503: {"model": ErrorBody},
        },
    )
    app.state.ingest = ingest
    app.state.settings = settings
    # add_middleware wraps: the last added runs first.
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes, timeout=settings.body_timeout_s)
    app.add_middleware(AccessMiddleware, read_keys=settings.api_keys, admin_keys=settings.admin_api_keys)
    app.add_middleware(CrossSiteWriteMiddleware, allowed_origins=settings.cors_origins)
    app.add_middleware(
        JsonCORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        max_age=600,
    )
    app.add_middleware(RelativeRedirectMiddleware)
    app.add_middleware(TrustedHostMiddleware, hosts=settings.trusted_hosts)
    add_offline_docs(app)

    @app.exception_handler(PKAError)
    async def _pka_error(_: Request, exc: PKAError) -> JSONResponse:
        return JSONResponse(status_code=exc.http_status, content={"error": exc.code, "message": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        summary = "; ".join(f"{d['field'] or 'body'}: {d['problem']}" for d in details[:5])
        return JSONResponse(
            status_code=422, content={"error": "invalid_request", "message": summary, "details": details}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"error": "http_error", "message": str(exc.detail)},
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            status_code=500, content={"error": "internal_error", "message": "Something went wrong on our side."}
        )

    _routes(app)
    app.include_router(safeguarding_router)
    app.include_router(flagged_router)
    return app


def get_service(request: Request) -> AssistantService:
    return request.app.state.service  # type: ignore[no-any-return]  # set in lifespan


def get_feedback(request: Request) -> FeedbackStore:
    return request.app.state.feedback  # type: ignore[no-any-return]  # set in lifespan


ServiceDep = Annotated[AssistantService, Depends(get_service)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback)]


async def _with_timeout(service: AssistantService, fn, *args):  # type: ignore[no-untyped-def]
    """Run blocking work in a thread; answer 504 once PKA_REQUEST_TIMEOUT_S has passed.

    The thread cannot be killed: it finishes in the background and its result is dropped.
    """
    limit = service.settings.request_timeout_s
    try:
        with anyio.fail_after(limit):
            return await anyio.to_thread.run_sync(lambda: fn(*args), abandon_on_cancel=True)
    except TimeoutError:
        message = f"The request took longer than {limit:g} s and was abandoned; try a narrower question."
        raise RequestTimeout(message) from None


def _ask_response(answer: Answer, body: AskRequest) -> AskResponse:
    return AskResponse(**answer.model_dump(exclude={"question"}), question=body.question, filters=body.filters)


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def _ask_stream(body: AskRequest, service: AssistantService, history: list[dict[str, str]]) -> Response:
    """POST /ask?stream=true: the model's tokens as they arrive, then the validated answer as one `answer` event.

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
            message = f"The request took longer than {limit:g} s and was abandoned; try a narrower question."
            return ("error", RequestTimeout(message))

    first = await next_item()
    if first[0] == "error":
        raise first[1]  # answered as JSON by the error handlers, with its status

    async def events() -> AsyncIterator[str]:
        item = first
        while True:
            kind, payload = item
            if kind == "token":
                yield _sse("token", {"text": payload})
            elif kind == "reset":
                yield _sse("reset", {})
            elif kind == "answer":
                yield _sse("answer", _ask_response(payload, body).model_dump(mode="json"))
                return
            else:
                if isinstance(payload, PKAError):
                    error = {"error": payload.code, "message": str(payload), "status": payload.http_status}
                else:
                    error = {"error": "internal_error", "message": "Something went wrong on our side.", "status": 500}
                yield _sse("error", error)
                return
            item = await next_item()

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


def _summary(r: DocumentRecord) -> dict[str, Any]:
    return {
        "document_id": r.doc_id,
        "title": r.meta.title,
        "doc_type": r.meta.doc_type,
        "partnership": r.meta.partnership,
        "date": r.meta.date,
        "year": r.meta.year,
        "source_url": r.meta.source_url,
        "media_type": r.media_type,
        "chunks": r.n_chunks,
        "chars": r.chars,
    }


def _routes(app: FastAPI) -> None:
    @app.get(
        "/health",
        response_model=Health,
        responses={503: {"description": "The store cannot be read: the Health fields plus `error` and `message`."}},
    )
    def health(service: ServiceDep) -> Health | JSONResponse:
        """200 when the store can be read now (a live read, not what this process remembers); 503 when not."""
        try:
            service.store.live_state()
            docs = len(service.documents())
            chunks = len(service.retriever.chunks)
            current = service.retriever.version == service.store.state()
        except PKAError as exc:
            body = Health(
                status="degraded",
                store=f"error: {exc}",
                chunks=0,
                documents=0,
                embedding_model=service.embedder.model_id,
                index_current=False,
            )
            message = f"The knowledge store is not available ({exc})."
            return JSONResponse(status_code=503, content={**body.model_dump(), "error": exc.code, "message": message})
        return Health(
            status="ok",
            store="ok",
            chunks=chunks,
            documents=docs,
            embedding_model=service.embedder.model_id,
            index_current=current,
            store_id=service.settings.store_id,
        )

    @app.post("/search", response_model=SearchResponse, responses={504: {"model": ErrorBody}})
    async def search(body: SearchRequest, service: ServiceDep) -> SearchResponse:
        _check_text(body.query, service.settings.max_question_chars)
        history = _history(body, service)
        hits = await _with_timeout(
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

    @app.post(
        "/ask",
        response_model=AskResponse,
        responses={
            200: {
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
                "description": "With ?stream=true: server-sent events `token` ({text}), `reset` (a retry began: "
                "drop the text so far), then one `answer` (the AskResponse, citations enforced) or `error`.",
            },
            504: {"model": ErrorBody},
        },
    )
    async def ask(
        body: AskRequest,
        service: ServiceDep,
        stream: Annotated[bool, Query(description="Stream the answer as server-sent events.")] = False,
    ) -> Response | AskResponse:
        _check_text(body.question, service.settings.max_question_chars)
        history = _history(body, service)
        if stream:
            return await _ask_stream(body, service, history)
        answer = await _with_timeout(service, lambda: service.ask(body.question, history=history, filters=body.filters))
        return _ask_response(answer, body)

    @app.get("/documents", response_model=list[DocumentSummary])
    def documents(service: ServiceDep) -> list[DocumentSummary]:
        return [DocumentSummary(**_summary(r)) for r in service.documents()]

    @app.get("/documents/{doc_id:doc_id}", response_model=DocumentDetail)
    def document(doc_id: str, service: ServiceDep) -> DocumentDetail:
        _check_doc_id(doc_id)
        record, text = service.document(doc_id)
        return DocumentDetail(**_summary(record), text=text)

    @app.get("/glossary")
    def glossary(service: ServiceDep) -> dict[str, list[dict[str, object]]]:
        return {"terms": service.glossary.as_dicts()}

    @app.post("/feedback", response_model=FeedbackCreated, status_code=201, responses={503: {"model": ErrorBody}})
    def feedback(body: FeedbackRequest, store: FeedbackDep, request: Request) -> FeedbackCreated:
        return FeedbackCreated(id=save_feedback(store, body, request.app.state.settings))

    @app.post("/admin/reload", response_model=Reloaded, responses={403: {"model": ErrorBody}})
    def reload(service: ServiceDep) -> Reloaded:
        rebuilt = service.retriever.refresh(force=True)
        return Reloaded(reloaded=rebuilt, chunks=len(service.retriever.chunks))

    @app.get("/admin/feedback/export", responses={403: {"model": ErrorBody}})
    def export_feedback(store: FeedbackDep, format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl") -> Response:
        rows = store.rows()
        if format == "csv":
            media, text = "text/csv; charset=utf-8", to_csv(rows)
        else:
            media, text = "application/x-ndjson", to_jsonl(rows)
        return Response(
            content=text,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="feedback.{format}"'},
        )

    @app.post(
        "/admin/ingest", response_model=IngestResult, responses={403: {"model": ErrorBody}, 409: {"model": ErrorBody}}
    )
    def admin_ingest(service: ServiceDep) -> IngestResult:
        report = jobs_of(app.state).run(service)
        service.retriever.refresh(force=True)
        if report.stopped is not None:  # disk full or read-only: 503, saying what was and was not stored
            done = f"{len(report.added)} added, {len(report.updated)} updated, {len(report.failed)} not stored"
            raise type(report.stopped)(f"{report.stopped} ({done}.)")
        return IngestResult(
            ok=report.ok,
            files=report.files,
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            removed=report.removed,
            failed=[FailedFile(name=n, reason=r) for n, r in report.failed],
            skipped=[FailedFile(name=n, reason=r) for n, r in report.skipped],
            chunks_written=report.chunks_written,
            chunks_total=report.chunks_total,
            seconds={k: round(v, 3) for k, v in report.seconds.items()},
            index_chunks=len(service.retriever.chunks),
            flagged=report.flagged,
            flagged_before=report.flagged_before,
        )

    @app.delete(
        "/admin/documents/{doc_id:doc_id}",
        response_model=Deleted,
        responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    )
    def delete_document(doc_id: str, service: ServiceDep) -> Deleted:
        lock = jobs_of(app.state).lock
        _check_doc_id(doc_id)
        with lock(service.settings.data_dir / "ingest.lock"):  # not while an ingest is writing
            record = service.store.document_records().get(doc_id)
            if record is None:
                raise NotFound(f"No document with id {doc_id!r}.")
            service.store.delete_document(doc_id)
        service.retriever.refresh(force=True)
        log.info("deleted document %s (%d chunks)", doc_id, record.n_chunks)
        return Deleted(deleted=doc_id, chunks=record.n_chunks, index_chunks=len(service.retriever.chunks))


def _check_doc_id(doc_id: str) -> None:
    """Any name a file can have is a document id (`#`, `%`, `+`, brackets, emoji, even a newline): the id is only a
    key into the store, never a path that is opened. Refused: empty, over-long, and ids no ingest can make."""
    parts = doc_id.replace("\\", "/").split("/")
    if (
        not doc_id
        or len(doc_id) > _MAX_DOC_ID
        or "\x00" in doc_id
        or any(part in ("", ".", "..") for part in parts)
        or any(len(part.encode()) > _MAX_NAME_BYTES for part in parts)
    ):
        raise BadInput(f"{doc_id!r} is not a valid document id.")


def _check_text(text: str, limit: int) -> None:
    if not text.strip():
        raise BadInput("The question is empty.")
    if len(text) > limit:
        raise BadInput(f"The question is {len(text)} characters; the limit is {limit}.")


def _history(body: SearchRequest | AskRequest, service: AssistantService) -> list[dict[str, str]]:
    turns = body.history[-service.settings.max_history_turns :] if service.settings.max_history_turns else []
    return [t.model_dump() for t in turns]
