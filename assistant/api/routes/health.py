"""GET /health: whether the store can be read now."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from assistant.api.deps import ServiceDep
from assistant.api.models import Health, HealthDegraded
from core.errors import PKAError

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"model": HealthDegraded, "description": "The store cannot be read."}},
)
def health(service: ServiceDep) -> Health | JSONResponse:
    """200 when the store can be read now (a live read, not what this process remembers); 503 when not."""
    try:
        service.store.live_state()
        docs = len(service.documents())
        chunks = len(service.retriever.chunks)
        current = service.retriever.state == service.store.state()
    except PKAError as exc:
        body = HealthDegraded(
            status="degraded",
            store=f"error: {exc}",
            chunks=0,
            documents=0,
            embedding_model=service.embedder.model_id,
            index_current=False,
            error=exc.code,
            message=f"The knowledge store is not available ({exc}).",
        )
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(
        status="ok",
        store="ok",
        chunks=chunks,
        documents=docs,
        embedding_model=service.embedder.model_id,
        index_current=current,
        store_id=service.settings.store_id,
    )
