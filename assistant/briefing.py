"""The 7-minute briefing: a one-page summary of a review or a theme in the sector's usual shape (background,
what happened, key learning, what it means for practice, reflective questions, where to find more), every
sourced line cited; as Markdown and as PDF.

Imports: stdlib, reportlab (PDF only), core, assistant. Sections without a sourced line say so rather than
invent one.
"""

from __future__ import annotations

import io
import re

from assistant.citing import Citer
from assistant.reviews import Review, label
from assistant.safeguarding import Safeguarding
from core.errors import BadInput, NotFound
from core.types import Citation

REFLECTIVE = {
    "default": [
        "Where might this learning apply to a child or family you are working with now?",
        "What would help you share information or challenge sooner in a similar situation?",
        "What will you do differently, and who do you need to tell?",
    ],
}


def review_briefing(safeguarding: Safeguarding, review_query: str) -> tuple[str, list[Citation]]:
    """Markdown for a review named like 'Child Z' (optionally with its partnership), with its citations."""
    reviews = safeguarding.reviews()
    wanted = review_query.strip().lower()
    matches = [r for r in reviews if r.name.lower() == wanted or r.id == wanted or wanted in label(r).lower()]
    if not matches:
        raise NotFound(f"No review called {review_query!r} in the knowledge base. GET /reviews lists them.")
    with_learning = [r for r in matches if r.learning] or matches
    if len({r.partnership for r in with_learning}) > 1:
        options = ", ".join(f"{r.id} ({r.partnership})" for r in with_learning)
        raise BadInput(f"More than one review is called {review_query!r}: use one of these ids: {options}.")
    review = with_learning[0]
    return _render_review(safeguarding, review)


def _render_review(safeguarding: Safeguarding, review: Review) -> tuple[str, list[Citation]]:
    citer = Citer()
    chunk = safeguarding.chunk(review.chunk_id)
    first_line = chunk.text.split("\n", 1)[0]
    lines = [f"# 7-minute briefing: {label(review)}", ""]
    lines += ["## Background", ""]
    lines.append(
        f"- {review.name} is a {review.review_type} recorded by {review.partnership or 'the partnership'}"
        f" in “{review.title}”. {citer.cite(chunk, chunk.start, chunk.start + len(first_line))}"
    )
    lines += ["", "## What happened", ""]
    context = [ln for ln in chunk.text.split("\n")[:3] if ln.strip() and not ln.lower().startswith("key learning")]
    described = False
    for line in context:
        if review.name in line and len(line) > len(review.name) + 10:
            offset = chunk.text.find(line)
            lines.append(
                f"- {line.strip()} {citer.cite(chunk, chunk.start + offset, chunk.start + offset + len(line))}"
            )
            described = True
    if not described:
        lines.append("- The knowledge base does not describe the circumstances of this case; see the full report.")
    lines += ["", "## Key learning", ""]
    if review.learning:
        for point in review.learning:
            lines.append(f"- {point.text} {citer.cite(safeguarding.chunk(point.chunk_id), point.start, point.end)}")
    else:
        lines.append("- The knowledge base records no learning points for this review yet.")
    lines += ["", "## What it means for practice", ""]
    themes = review.themes
    if themes:
        for theme_id in themes:
            lines.append(
                f"- {safeguarding.theme_label(theme_id)}: check your practice against the learning above "
                "and your partnership's procedures."
            )
    else:
        lines.append("- Read the learning points with your team and check them against your agency's procedures.")
    lines += ["", "## Three reflective questions", ""]
    lines += [f"{i}. {q}" for i, q in enumerate(REFLECTIVE["default"], start=1)]
    lines += ["", "## Where to find more", ""]
    lines.append(f"- The source document: “{review.title}” ({review.doc_id}).")
    lines.append("- Your partnership's website for the full report or learning briefing, and your safeguarding lead.")
    return "\n".join(lines) + "\n", citer.citations


def theme_briefing(safeguarding: Safeguarding, theme_query: str) -> tuple[str, list[Citation]]:
    q = theme_query.strip().lower()
    theme = next((t for t in safeguarding.themes if t.id == q or t.label.lower() == q), None)
    if theme is None:
        theme = next((t for t in safeguarding.themes if q in t.label.lower() or q in t.id), None)
    if theme is None:
        known = ", ".join(t.id for t in safeguarding.themes)
        raise NotFound(f"No theme called {theme_query!r}. Known themes: {known}.")
    reviews = [r for r in safeguarding.reviews() if theme.id in r.themes]
    citer = Citer()
    lines = [f"# 7-minute briefing: {theme.label}", "", "## Background", ""]
    lines.append(f"- {len(reviews)} review(s) in the knowledge base have learning tagged “{theme.label}”.")
    lines += ["", "## What happened", ""]
    for r in reviews:
        chunk = safeguarding.chunk(r.chunk_id)
        first = chunk.text.split("\n", 1)[0]
        lines.append(f"- {label(r)}: {first.strip()} {citer.cite(chunk, chunk.start, chunk.start + len(first))}")
    if not reviews:
        lines.append("- No review in the knowledge base has learning on this theme.")
    lines += ["", "## Key learning", ""]
    for r in reviews:
        for p in r.learning:
            if theme.id in p.themes:
                lines.append(f"- {r.name}: {p.text} {citer.cite(safeguarding.chunk(p.chunk_id), p.start, p.end)}")
    lines += ["", "## What it means for practice", ""]
    lines.append(f"- Discuss how “{theme.label.lower()}” shows up in your own cases, using the learning above.")
    lines += ["", "## Three reflective questions", ""]
    lines += [f"{i}. {q}" for i, q in enumerate(REFLECTIVE["default"], start=1)]
    lines += [
        "",
        "## Where to find more",
        "",
        "- The source documents cited above, and your partnership's learning briefings.",
    ]
    return "\n".join(lines) + "\n", citer.citations


def to_pdf(markdown: str, citations: list[Citation]) -> bytes:
    """A plain, accessible one-page PDF of the briefing with its sources listed at the end."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story: list = []
    bullets: list = []

    def flush() -> None:
        if bullets:
            story.append(ListFlowable([ListItem(b) for b in bullets], bulletType="bullet"))
            bullets.clear()

    def esc(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    for line in markdown.splitlines():
        if line.startswith("# "):
            flush()
            story.append(Paragraph(esc(line[2:]), styles["Title"]))
        elif line.startswith("## "):
            flush()
            story.append(Paragraph(esc(line[3:]), styles["Heading2"]))
        elif line.startswith("- ") or re.match(r"^\d+\. ", line):
            bullets.append(Paragraph(esc(re.sub(r"^(?:- |\d+\. )", "", line)), styles["BodyText"]))
        elif line.strip():
            flush()
            story.append(Paragraph(esc(line), styles["BodyText"]))
    flush()
    if citations:
        story.append(Spacer(1, 8))
        story.append(Paragraph("Sources", styles["Heading2"]))
        for c in citations:
            where = " › ".join(p for p in (c.title, c.section) if p)
            story.append(Paragraph(esc(f"[{c.n}] {where}: “{c.quote[:300]}”"), styles["BodyText"]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title="7-minute briefing").build(story)
    return buf.getvalue()
