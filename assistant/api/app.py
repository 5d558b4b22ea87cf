"""The FastAPI application: create_app() builds the service once in the lifespan; one handler maps our errors
to JSON bodies with a 4xx/5xx status, and no traceback ever reaches a client.

Imports: fastapi, core, assistant.
"""

from __future__ import annotations

import logging
import re
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.models import (
    AskRequest,
    AskResponse,
    DocumentDetail,
    DocumentSummary,
    Health,
    SearchRequest,
    SearchResponse,
    SearchResult,
)
from assistant.service import AssistantService, build_service
from core.config import Settings, get_settings
from core.errors import BadInput, PKAError
from core.store import DocumentRecord

log = logging.getLogger(__name__)
_DOC_ID = re.compile(r"^[\w.\- /()&,']{1,300}$")


def create_app(settings: Settings | None = None, *, service: AssistantService | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]  # FastAPI's own lifespan signature
        app.state.service = service or build_service(settings)
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
    )

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
        return JSONResponse(status_code=exc.status_code, content={"error": "http_error", "message": str(exc.detail)})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(
            status_code=500, content={"error": "internal_error", "message": "Something went wrong on our side."}
        )

    _routes(app)
    return app


def get_service(request: Request) -> AssistantService:
    return request.app.state.service  # type: ignore[no-any-return]  # set in lifespan


ServiceDep = Annotated[AssistantService, Depends(get_service)]


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
    @app.get("/health", response_model=Health)
    def health(service: ServiceDep) -> Health:
        try:
            chunks = len(service.retriever.chunks)
            docs = len(service.documents())
            store = "ok"
        except PKAError as exc:
            chunks, docs, store = 0, 0, f"error: {exc}"
        return Health(
            status="ok" if store == "ok" else "degraded",
            store=store,
            chunks=chunks,
            documents=docs,
            embedding_model=service.embedder.model_id,
        )

    @app.post("/search", response_model=SearchResponse)
    def search(body: SearchRequest, service: ServiceDep) -> SearchResponse:
        _check_text(body.query, service.settings.max_question_chars)
        hits = service.search(body.query, top_k=body.top_k, filters=body.filters, history=_history(body, service))
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

    @app.post("/ask", response_model=AskResponse)
    def ask(body: AskRequest, service: ServiceDep) -> AskResponse:
        _check_text(body.question, service.settings.max_question_chars)
        answer = service.ask(body.question, history=_history(body, service), filters=body.filters)
        return AskResponse(**answer.model_dump(exclude={"question"}), question=body.question, filters=body.filters)

    @app.get("/documents", response_model=list[DocumentSummary])
    def documents(service: ServiceDep) -> list[DocumentSummary]:
        return [DocumentSummary(**_summary(r)) for r in service.documents()]

    @app.get("/documents/{doc_id:path}", response_model=DocumentDetail)
    def document(doc_id: str, service: ServiceDep) -> DocumentDetail:
        if not _DOC_ID.match(doc_id) or ".." in doc_id.split("/") or doc_id.startswith("/"):
            raise BadInput(f"{doc_id!r} is not a valid document id.")
        record, text = service.document(doc_id)
        return DocumentDetail(**_summary(record), text=text)

    @app.get("/glossary")
    def glossary(service: ServiceDep) -> dict[str, list[dict[str, object]]]:
        return {"terms": service.glossary.as_dicts()}

    @app.post("/admin/reload")
    def reload(service: ServiceDep) -> dict[str, object]:
        rebuilt = service.retriever.refresh(force=True)
        return {"reloaded": rebuilt, "chunks": len(service.retriever.chunks)}


def _check_text(text: str, limit: int) -> None:
    if not text.strip():
        raise BadInput("The question is empty.")
    if len(text) > limit:
        raise BadInput(f"The question is {len(text)} characters; the limit is {limit}.")


def _history(body: SearchRequest | AskRequest, service: AssistantService) -> list[dict[str, str]]:
    turns = body.history[-service.settings.max_history_turns :] if service.settings.max_history_turns else []
    return [t.model_dump() for t in turns]
