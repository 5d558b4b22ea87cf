"""Routes for the review index, the learning themes and 7-minute briefings."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.briefing import review_briefing, theme_briefing, to_pdf
from assistant.reviews import label, theme_counts
from assistant.service import AssistantService
from core.errors import BadInput
from core.types import Citation

router = APIRouter()


class BriefingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    review: str | None = Field(None, min_length=1, max_length=200)
    theme: str | None = Field(None, min_length=1, max_length=200)
    format: Literal["json", "markdown", "pdf"] = "json"

    @model_validator(mode="after")
    def _one(self) -> BriefingRequest:
        if (self.review is None) == (self.theme is None):
            raise ValueError("give exactly one of `review` or `theme`")
        return self


class BriefingResponse(BaseModel):
    title: str
    markdown: str
    citations: list[Citation]


def _service(request: Request) -> AssistantService:
    return request.app.state.service  # type: ignore[no-any-return]  # set in the lifespan


@router.get("/reviews")
def reviews(request: Request) -> dict[str, Any]:
    service = _service(request)
    items = service.safeguarding.reviews()
    return {
        "reviews": [
            {
                "id": r.id,
                "name": r.name,
                "label": label(r),
                "review_type": r.review_type,
                "partnership": r.partnership,
                "year": r.year,
                "document_id": r.doc_id,
                "title": r.title,
                "chunk_id": r.chunk_id,
                "summary": r.summary,
                "themes": r.themes,
                "learning": [
                    {"text": p.text, "chunk_id": p.chunk_id, "start": p.start, "end": p.end, "themes": list(p.themes)}
                    for p in r.learning
                ],
            }
            for r in items
        ]
    }


@router.get("/themes")
def themes(request: Request) -> dict[str, Any]:
    service = _service(request)
    sg = service.safeguarding
    tagged = [r for r in sg.reviews() if r.themes]
    counts = theme_counts(tagged)
    return {
        "reviews_with_learning": len(tagged),
        "themes": [
            {
                "id": t.id,
                "label": t.label,
                "reviews": counts.get(t.id, 0),
                "review_ids": [r.id for r in tagged if t.id in r.themes],
            }
            for t in sorted(sg.themes, key=lambda t: -counts.get(t.id, 0))
        ],
    }


@router.post("/briefing", response_model=None)
def briefing(body: BriefingRequest, request: Request) -> Response | BriefingResponse:
    service = _service(request)
    service.retriever.refresh(wait=False)
    if body.review is not None:
        markdown, citations = review_briefing(service.safeguarding, body.review)
    elif body.theme is not None:
        markdown, citations = theme_briefing(service.safeguarding, body.theme)
    else:  # pragma: no cover - the validator makes this unreachable
        raise BadInput("give a review or a theme")
    title = markdown.splitlines()[0].lstrip("# ").strip()
    if body.format == "markdown":
        sources = "\n".join(f"[{c.n}] {c.title} — {c.section}: “{c.quote}”" for c in citations)
        return Response(markdown + "\n## Sources\n\n" + sources + "\n", media_type="text/markdown; charset=utf-8")
    if body.format == "pdf":
        filename = "".join(ch if ch.isalnum() else "-" for ch in title.lower()).strip("-")[:60] or "briefing"
        return Response(
            to_pdf(markdown, citations),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{filename}.pdf"'},
        )
    return BriefingResponse(title=title, markdown=markdown, citations=citations)
