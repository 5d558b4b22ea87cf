"""The FastAPI application. create_app() only assembles: the middlewares, the error handlers
(assistant.api.errors), the routers (assistant.api.routes, one per resource; their dependencies in
assistant.api.deps) and the offline /docs. The service is built once, in the lifespan.

Around the routes, outermost first: trusted hosts (PKA_TRUSTED_HOSTS), relative redirects (a Host header is never
echoed), CORS (the UI's origins only), cross-site writes refused (assistant.api.crosssite), API keys
(assistant.security), a request body limit and read timeout; every refusal is JSON,
and a query parameter a route does not declare is a 422 (assistant.api.strict). /ask and /search answer 504 after
PKA_REQUEST_TIMEOUT_S. The /admin routes need an admin key once keys are set. The ingest job and its lock are
passed in (assistant.api.jobs, assistant.serving): this package imports no ingest code.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from assistant.api.crosssite import CrossSiteWriteMiddleware
from assistant.api.docs import add_offline_docs
from assistant.api.errors import ErrorBody, InvalidRequest, install_error_handlers
from assistant.api.jobs import IngestJobs
from assistant.api.middleware import (
    AccessMiddleware,
    BodyLimitMiddleware,
    JsonCORSMiddleware,
    RelativeRedirectMiddleware,
    TrustedHostMiddleware,
)
from assistant.api.routes import ROUTERS
from assistant.api.strict import enable_question_log, known_query_only
from assistant.feedback import FeedbackStore
from assistant.service import AssistantService, build_service
from core.config import Settings, get_settings
from core.errors import PKAError

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, service: AssistantService | None = None, ingest: IngestJobs | None = None
) -> FastAPI:
    """The API. `ingest` carries the write side's jobs for the admin routes (assistant.serving passes them);
    without it POST /admin/ingest and DELETE /admin/documents answer 503."""
    settings = settings or get_settings()
    if settings.log_questions:
        enable_question_log()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
            422: {"model": InvalidRequest},
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
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
