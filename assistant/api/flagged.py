"""GET /admin/flagged: the passages ingest flagged as planted instructions, for an administrator to review.

An /admin route, so it needs an admin key once keys are set (assistant.api.middleware). Flagged passages never
reach answers or search; this is the one place they are shown.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from core.records import flagged_row

router = APIRouter()


class FlaggedPassage(BaseModel):
    document_id: str
    title: str
    chunk_id: str
    section: str
    page: int | None
    start: int
    end: int
    reason: str
    text: str


class FlaggedList(BaseModel):
    passages: list[FlaggedPassage]
    documents: dict[str, int]  # document id -> how many of its passages are flagged


@router.get("/admin/flagged", response_model=FlaggedList, responses={403: {"description": "needs an admin key"}})
def flagged(request: Request) -> dict[str, Any]:
    chunks = request.app.state.service.store.flagged_chunks()
    documents: dict[str, int] = {}
    for c in chunks:
        documents[c.doc_id] = documents.get(c.doc_id, 0) + 1
    return {"passages": [flagged_row(c) for c in chunks], "documents": documents}
