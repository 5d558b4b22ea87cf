"""The 7-minute briefing: a one-page summary of a review or a theme in the sector's usual shape (background,
what happened, key learning, what it means for practice, an action plan, reflective questions, where to find
more), every sourced line cited; as Markdown and as PDF.

"What happened" is the review's own summary sentences; "What it means for practice" quotes what the document asks
of each agency or role (its "must" and "should" sentences about the review); the action plan is a table for teams
to fill in; sources are listed by title and link from the manifest. Sections without a sourced line say so rather
than invent one.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from assistant.citing import Citer
from assistant.reviews import Review, label
from assistant.safeguarding import Safeguarding
from core.errors import BadInput, NotFound, PKAError
from core.types import Chunk, Citation

REFLECTIVE = {
    "default": [
        "Where might this learning apply to a child or family you are working with now?",
        "What would help you share information or challenge sooner in a similar situation?",
        "What will you do differently, and who do you need to tell?",
    ],
}


MAX_SUMMARY = 5  # sentences in "What happened" per review
MAX_ASKS = 8  # "must"/"should" sentences in "What it means for practice"
BLANK_ROWS = 2  # empty rows left at the end of the action plan

_SENTENCE = re.compile(r"[^.!?\n]*?[A-Za-z][^.!?\n]*[.!?](?=\s|$)")
_OBLIGATION = re.compile(
    r"\b(?:must|should|needs? to|need to|are expected to|is expected to|will need to|ought to|are asked to)\b", re.I
)
_MIN_WORDS = 6  # shorter "sentences" are headings or fragments ("See p. 4.")


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int  # offsets into the document's cleaned text
    end: int


@dataclass
class DocView:
    """A document's text rebuilt from its committed chunks (their offsets point into it)."""

    text: str
    chunks: list[Chunk]

    def chunk_at(self, start: int, end: int) -> Chunk | None:
        return next((c for c in self.chunks if c.start <= start and end <= c.end), None)


def _doc_view(safeguarding: Safeguarding, doc_id: str) -> DocView:
    """The document's cleaned text from the store; rebuilt from its chunks when the store cannot give it (the
    gaps between chunks, only whitespace, then become spaces)."""
    chunks = sorted((c for c in safeguarding.retriever.chunks if c.doc_id == doc_id), key=lambda c: c.start)
    stored = getattr(safeguarding.retriever.store, "document_text", None)
    text = (stored(doc_id) if stored else None) or ""
    if text and all(text[c.start : c.end] == c.text for c in chunks):
        return DocView(text=text, chunks=chunks)
    text = ""
    for c in chunks:
        if c.start >= len(text):
            text += " " * (c.start - len(text)) + c.text
        elif c.end > len(text):
            text += c.text[len(text) - c.start :]
    return DocView(text=text, chunks=chunks)


def _blocks(text: str) -> list[list[Sentence]]:
    """Runs of prose: consecutive lines made of whole sentences. A heading, a list item or any other line that is
    not prose ends a run; blank lines do not."""
    blocks: list[list[Sentence]] = [[]]
    pos = 0
    for line in text.split("\n"):
        line_start, pos = pos, pos + len(line) + 1
        stripped = line.strip()
        if not stripped:
            continue
        found = []
        for m in _SENTENCE.finditer(line):
            text = m.group(0).strip()
            begin = line_start + m.start() + len(m.group(0)) - len(m.group(0).lstrip())
            found.append(Sentence(text, begin, begin + len(text)))
        prose = (
            found
            and not re.match(r"^\s*(?:[·•▪◦●\-–*#|]|\(?\d{1,2}[.)]\s)", line)
            and sum(len(f.text) for f in found) >= 0.8 * len(stripped)
        )
        if not prose:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].extend(f for f in found if len(f.text.split()) >= _MIN_WORDS)
    return [b for b in blocks if b]


def _names(review: Review, text: str) -> bool:
    return re.search(rf"\b{re.escape(review.name)}\b", text) is not None


def _review_sentences(review: Review, doc: DocView, others_in_doc: bool) -> tuple[list[Sentence], list[Sentence]]:
    """(summary sentences, obligation sentences) for the review, from its own document.

    Summary: the first prose block that names the review, from the naming sentence on, without its "must/should"
    sentences. Obligations: the "must/should" sentences of every block that names the review; of the whole
    document when it is about this review alone. Learning points are left out (they have their own section)."""
    learning = {p.text.strip() for p in review.learning}
    blocks = _blocks(doc.text)
    summary: list[Sentence] = []
    for block in blocks:
        first = next((i for i, s in enumerate(block) if _names(review, s.text)), None)
        if first is None:
            continue
        summary = [s for s in block[first:] if not _OBLIGATION.search(s.text) and s.text not in learning]
        summary = summary[:MAX_SUMMARY]
        break
    asks: list[Sentence] = []
    for block in blocks:
        if others_in_doc and not any(_names(review, s.text) for s in block):
            continue
        asks += [s for s in block if _who(s.text) and s.text not in learning]
    return summary, asks[:MAX_ASKS]


def _article(word: str) -> str:
    """'an' before a vowel sound, abbreviations read letter by letter included ('an LCSPR', 'an SCR')."""
    if re.match(r"[A-Z]{2,}", word):
        return "an" if word[0] in "AEFHILMNORSX" else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"


def _cite(citer: Citer, doc: DocView, s: Sentence) -> str:
    chunk = doc.chunk_at(s.start, s.end)
    return f" {citer.cite(chunk, s.start, s.end)}" if chunk is not None else ""


def _who(text: str) -> str:
    """Who a "must"/"should" sentence asks: the short phrase it opens with ("Practitioners", "The GP"), or ''
    when it opens otherwise ("When a child dies, …", "The chair agreed that …") — then it asks no one in
    particular and is not listed."""
    m = _OBLIGATION.search(text)
    who = text[: m.start()].strip() if m else ""
    if not who or len(who.split()) > 8 or re.search(r"[,;:()]|\b(?:that|if|when|where|which)\b", who, re.I):
        return ""
    return who if who[0].isupper() else ""


def _ask_line(s: Sentence) -> str:
    """The sentence verbatim, with who it asks in bold."""
    who = _who(s.text)
    return f"**{who}** {s.text[len(who) :].strip()}" if who else s.text


def _action_plan(points: list[str]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "/").strip()

    lines = ["| Action | Who | By when |", "| --- | --- | --- |"]
    lines += [f"| Respond to: {cell(p)} |  |  |" for p in points]
    lines += ["|  |  |  |"] * BLANK_ROWS
    return lines


def _sources(safeguarding: Safeguarding, doc_ids: list[str]) -> list[str]:
    """'- [Title](link)' for each document, title and link from the manifest; never the internal file name."""
    try:
        records = safeguarding.retriever.store.document_records()
    except Exception:  # noqa: BLE001 - a store that cannot list records still gets a briefing, with titles only
        records = {}
    chunk_titles = {c.doc_id: c.title for c in safeguarding.retriever.chunks if c.doc_id in doc_ids}
    lines = []
    for doc_id in dict.fromkeys(doc_ids):
        record = records.get(doc_id)
        title = (record.meta.title if record else "") or chunk_titles.get(doc_id) or "the source document"
        url = record.meta.source_url if record else ""
        lines.append(f"- [{title}]({url})" if url else f"- {title} (no link is recorded for it)")
    return lines


def _reflective_and_more(safeguarding: Safeguarding, doc_ids: list[str]) -> list[str]:
    lines = ["", "## Three reflective questions", ""]
    lines += [f"{i}. {q}" for i, q in enumerate(REFLECTIVE["default"], start=1)]
    lines += ["", "## Where to find more", ""]
    lines += _sources(safeguarding, doc_ids)
    lines.append("- Your partnership's website for the full report or learning briefing, and your safeguarding lead.")
    return lines


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
    doc = _doc_view(safeguarding, review.doc_id)
    others = any(r.doc_id == review.doc_id and r.name != review.name for r in safeguarding.reviews())
    summary, asks = _review_sentences(review, doc, others)
    first_line = chunk.text.split("\n", 1)[0]
    lines = [f"# 7-minute briefing: {label(review)}", ""]
    lines += ["## Background", ""]
    lines.append(
        f"- {review.name} is {_article(review.review_type)} {review.review_type} recorded by "
        f"{review.partnership or 'the partnership'} in “{review.title}”. "
        f"{citer.cite(chunk, chunk.start, chunk.start + len(first_line))}"
    )
    lines += ["", "## What happened", ""]
    lines += [f"- {s.text}{_cite(citer, doc, s)}" for s in summary]
    if not summary:
        lines.append("- The documents here do not summarise what happened; see the full report (below).")
    lines += ["", "## Key learning", ""]
    if review.learning:
        for point in review.learning:
            lines.append(f"- {point.text} {citer.cite(safeguarding.chunk(point.chunk_id), point.start, point.end)}")
    else:
        lines.append("- The knowledge base records no learning points for this review yet.")
    lines += ["", "## What it means for practice", ""]
    if asks:
        lines.append("What the document asks of each agency or role:")
        lines.append("")
        lines += [f"- {_ask_line(s)}{_cite(citer, doc, s)}" for s in asks]
    else:
        lines.append(
            "- The document does not say what this learning asks of each agency: agree it in your team, using the "
            "action plan below."
        )
    lines += ["", "## Action plan", "", "For your team to fill in: what you will do, who will do it, and by when.", ""]
    lines += _action_plan([p.text for p in review.learning])
    lines += _reflective_and_more(safeguarding, [review.doc_id] + [c.document_id for c in citer.citations])
    return "\n".join(lines) + "\n", citer.citations


def theme_briefing(safeguarding: Safeguarding, theme_query: str) -> tuple[str, list[Citation]]:
    q = theme_query.strip().lower()
    theme = next((t for t in safeguarding.themes if t.id == q or t.label.lower() == q), None)
    if theme is None:
        theme = next((t for t in safeguarding.themes if q in t.label.lower() or q in t.id), None)
    if theme is None:
        known = ", ".join(t.id for t in safeguarding.themes)
        raise NotFound(f"No theme called {theme_query!r}. Known themes: {known}.")
    all_reviews = safeguarding.reviews()
    reviews = [r for r in all_reviews if theme.id in r.themes]
    citer = Citer()
    views = {r.doc_id: _doc_view(safeguarding, r.doc_id) for r in reviews}
    found = {
        r.id: _review_sentences(r, views[r.doc_id], any(o.doc_id == r.doc_id and o.name != r.name for o in all_reviews))
        for r in reviews
    }
    lines = [f"# 7-minute briefing: {theme.label}", "", "## Background", ""]
    lines.append(f"- {len(reviews)} review(s) in the knowledge base have learning tagged “{theme.label}”.")
    lines += ["", "## What happened", ""]
    for r in reviews:
        summary = found[r.id][0]
        if summary:
            text = " ".join(f"{s.text}{_cite(citer, views[r.doc_id], s)}" for s in summary[:2])
            lines.append(f"- {label(r)}: {text}")
        else:
            lines.append(f"- {label(r)}: the documents here do not summarise what happened.")
    if not reviews:
        lines.append("- No review in the knowledge base has learning on this theme.")
    lines += ["", "## Key learning", ""]
    points = []
    for r in reviews:
        for p in r.learning:
            if theme.id in p.themes:
                points.append(p.text)
                lines.append(f"- {r.name}: {p.text} {citer.cite(safeguarding.chunk(p.chunk_id), p.start, p.end)}")
    lines += ["", "## What it means for practice", ""]
    asks = [(r, s) for r in reviews for s in found[r.id][1]][:MAX_ASKS]
    if asks:
        lines.append("What the documents ask of each agency or role:")
        lines.append("")
        lines += [f"- {r.name}: {_ask_line(s)}{_cite(citer, views[r.doc_id], s)}" for r, s in asks]
    else:
        lines.append(
            f"- The documents do not say what the learning on “{theme.label.lower()}” asks of each agency: agree "
            "it in your team, using the action plan below."
        )
    lines += ["", "## Action plan", "", "For your team to fill in: what you will do, who will do it, and by when.", ""]
    lines += _action_plan(points)
    lines += _reflective_and_more(safeguarding, [c.document_id for c in citer.citations])
    return "\n".join(lines) + "\n", citer.citations


class PdfUnavailable(PKAError):
    """reportlab is missing (a runtime dependency, so only a broken install): the API says so, never a bare 500."""

    code = "pdf_unavailable"
    http_status = 501


def _inline(text: str) -> str:
    """Markdown's **bold** and [text](link) as reportlab paragraph markup; everything else escaped."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\[([^\]]+)\]\((https?://[^)\s\"]+)\)", r'<link href="\2" color="blue">\1</link>', text)


def _table(rows: list[str], styles) -> object:  # reportlab's stylesheet
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Table, TableStyle

    cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
    cells = [r for r in cells if not all(re.fullmatch(r"-{3,}", c) for c in r)]  # the header rule
    data = [[Paragraph(_inline(c), styles["BodyText"]) for c in r] for r in cells]
    heights = [None if any(r) else 28 for r in cells]  # room to write in the empty rows
    table = Table(data, colWidths=["60%", "22%", "18%"], repeatRows=1, rowHeights=heights)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def to_pdf(markdown: str, citations: list[Citation]) -> bytes:
    """A plain, accessible PDF of the briefing: headings, lists, links, the action-plan table as a table with room
    to write in, and its sources listed at the end."""
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer
    except ImportError as exc:
        raise PdfUnavailable(
            "PDF briefings need the reportlab package, which this installation lacks: reinstall the project "
            "(pip install -e .) or pip install reportlab. Markdown and JSON briefings still work."
        ) from exc

    styles = getSampleStyleSheet()
    story: list = []
    bullets: list = []
    rows: list[str] = []

    def flush() -> None:
        if bullets:
            story.append(ListFlowable([ListItem(b) for b in bullets], bulletType="bullet"))
            bullets.clear()
        if rows:
            story.append(_table(rows, styles))
            rows.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            if bullets:
                flush()
            rows.append(line)
            continue
        if rows:
            flush()
        if line.startswith("# "):
            flush()
            story.append(Paragraph(_inline(line[2:]), styles["Title"]))
        elif line.startswith("## "):
            flush()
            story.append(Paragraph(_inline(line[3:]), styles["Heading2"]))
        elif line.startswith("- ") or re.match(r"^\d+\. ", line):
            bullets.append(Paragraph(_inline(re.sub(r"^(?:- |\d+\. )", "", line)), styles["BodyText"]))
        elif line.strip():
            flush()
            story.append(Paragraph(_inline(line), styles["BodyText"]))
    flush()
    if citations:
        story.append(Spacer(1, 8))
        story.append(Paragraph("Sources", styles["Heading2"]))
        for c in citations:
            where = " › ".join(p for p in (c.title, c.section) if p)
            story.append(Paragraph(_inline(f"[{c.n}] {where}: “{c.quote[:300]}”"), styles["BodyText"]))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, title="7-minute briefing").build(story)
    return buf.getvalue()
