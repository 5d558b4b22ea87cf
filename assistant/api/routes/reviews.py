"""GET /reviews, GET /themes and POST /briefing: the review index, the learning themes and 7-minute briefings."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from assistant.api.deps import ServiceDep
from assistant.api.errors import ErrorBody
from assistant.api.models import (
    BriefingRequest,
    BriefingResponse,
    LearningPointOut,
    ReviewList,
    ReviewOut,
    ThemeCount,
    ThemeList,
)
from assistant.briefing import review_briefing, theme_briefing, to_pdf
from assistant.reviews import label, theme_counts
from core.errors import BadInput

router = APIRouter(tags=["reviews"])
_BRIEFING_FILES = {
    "text/markdown": {"schema": {"type": "string"}},
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
}


@router.get("/reviews", response_model=ReviewList)
def reviews(service: ServiceDep) -> ReviewList:
    return ReviewList(
        reviews=[
            ReviewOut(
                id=r.id,
                name=r.name,
                label=label(r),
                review_type=r.review_type,
                partnership=r.partnership,
                year=r.year,
                document_id=r.doc_id,
                title=r.title,
                chunk_id=r.chunk_id,
                summary=r.summary,
                themes=r.themes,
                learning=[
                    LearningPointOut(text=p.text, chunk_id=p.chunk_id, start=p.start, end=p.end, themes=list(p.themes))
                    for p in r.learning
                ],
            )
            for r in service.safeguarding.reviews()
        ]
    )


@router.get("/themes", response_model=ThemeList)
def themes(service: ServiceDep) -> ThemeList:
    sg = service.safeguarding
    tagged = [r for r in sg.reviews() if r.themes]
    counts = theme_counts(tagged)
    return ThemeList(
        reviews_with_learning=len(tagged),
        themes=[
            ThemeCount(
                id=t.id,
                label=t.label,
                reviews=counts.get(t.id, 0),
                review_ids=[r.id for r in tagged if t.id in r.themes],
            )
            for t in sorted(sg.themes, key=lambda t: -counts.get(t.id, 0))
        ],
    )


@router.post(
    "/briefing",
    response_model=BriefingResponse,
    responses={
        200: {"content": _BRIEFING_FILES, "description": "JSON, or with `format` markdown or pdf, the file."},
        404: {"model": ErrorBody},
    },
)
def briefing(body: BriefingRequest, service: ServiceDep) -> Response | BriefingResponse:
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
