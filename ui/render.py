"""Pure rendering helpers: strings in, HTML/markdown strings out. No Streamlit import, so all of it unit-tests.

Everything that came from the knowledge base is HTML-escaped before any markup is added, so a document can never
inject tags into the page. ``$`` is escaped too, because Streamlit's markdown would read ``$...$`` as maths.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

DOC_TYPE_LABELS: dict[str, str] = {
    "learning_briefing": "Learning briefing",
    "procedure": "Procedure",
    "annual_report": "Annual report",
    "minutes": "Minutes",
    "national_guidance": "National guidance",
    "other": "Other",
}

QUOTE_SEPARATOR = "…"
_MARKER = r"\[(\d{1,3})\]"

SIGNPOSTING = (
    "If you are worried about a child now, contact your local children's services front door (or MASH); "
    "if a child is in immediate danger, call 999."
)


# -- small helpers ---------------------------------------------------------------------------------------------------


def esc(text: str) -> str:
    """HTML-escape text for st.markdown(unsafe_allow_html=True); also neutralise ``$`` (maths)."""
    return html.escape(text or "", quote=True).replace("$", "&#36;")


def doc_type_label(doc_type: str | None) -> str:
    if not doc_type:
        return ""
    return DOC_TYPE_LABELS.get(doc_type, doc_type.replace("_", " ").capitalize())


def short_partnership(name: str | None) -> str:
    """'East Sussex Safeguarding Children Partnership (ESSCP)' -> 'ESSCP'; otherwise the name itself."""
    if not name:
        return ""
    m = re.search(r"\(([A-Z][A-Za-z&]{1,12})\)\s*$", name)
    return m.group(1) if m else name


def lower_words(text: str) -> str:
    """A label lower-cased for use mid-sentence, abbreviations kept ('DSL'; 'Practitioner' -> 'practitioner')."""
    return " ".join(w if sum(ch.isupper() for ch in w) > 1 else w.lower() for w in (text or "").split(" "))


def anchor_id(prefix: str, n: int | str) -> str:
    """A DOM id for citation ``n`` of the answer identified by ``prefix``."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "-", str(prefix))
    return f"pka-{safe}-cite-{n}"


# -- glossary --------------------------------------------------------------------------------------------------------


class Glossary:
    """Abbreviations from GET /glossary, matched as whole words (case-sensitive: 'MASH', not 'mash')."""

    def __init__(self, terms: Iterable[Mapping[str, Any]] = ()) -> None:
        self.titles: dict[str, str] = {}
        for t in terms or ():
            term = str(t.get("term") or "").strip()
            expansion = str(t.get("expansion") or "").strip()
            if not term or not expansion or term == expansion:
                continue
            note = str(t.get("note") or "").strip()
            self.titles[term] = f"{expansion} — {note}" if note else expansion
        names = sorted(self.titles, key=len, reverse=True)
        self.pattern = "|".join(re.escape(n) for n in names)

    def __bool__(self) -> bool:
        return bool(self.titles)

    def abbr(self, term: str) -> str:
        return f'<abbr title="{esc(self.titles[term])}">{esc(term)}</abbr>'


def _term_regex(glossary: Glossary | None) -> str | None:
    if not glossary:
        return None
    return rf"(?<![\w/.-])(?:{glossary.pattern})(?![\w/-])"


def annotate(text: str, glossary: Glossary | None = None) -> str:
    """Escape ``text`` and wrap glossary abbreviations in <abbr title="expansion">."""
    rx = _term_regex(glossary)
    if not rx or not text:
        return esc(text)
    out: list[str] = []
    pos = 0
    for m in re.finditer(rx, text):
        out.append(esc(text[pos : m.start()]))
        out.append(glossary.abbr(m.group(0)))  # type: ignore[union-attr]  # rx is None without a glossary
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def expand_abbreviations(text: str, glossary: Glossary | None) -> str:
    """Alias of :func:`annotate`, named after what it does for a reader."""
    return annotate(text, glossary)


# -- answers ---------------------------------------------------------------------------------------------------------


def render_answer(
    answer: str,
    citations: Sequence[Mapping[str, Any]] = (),
    *,
    glossary: Glossary | None = None,
    anchor_prefix: str = "a0",
) -> str:
    """The answer's markdown with every ``[n]`` that has a citation turned into a link to that citation.

    Markdown structure (list lines, bold) is kept; text is escaped; glossary terms get a hover expansion.
    """
    answer = _paragraphs(answer or "")
    titles = {int(c.get("n", 0)): str(c.get("title") or "") for c in citations}
    term_rx = _term_regex(glossary)
    rx = _MARKER if not term_rx else f"{_MARKER}|(?P<term>{term_rx})"
    out: list[str] = []
    pos = 0
    for m in re.finditer(rx, answer or ""):
        out.append(esc(answer[pos : m.start()]))
        if m.group(1) is not None:
            n = int(m.group(1))
            if n in titles:
                tip = f"Source {n}: {titles[n]}" if titles[n] else f"Source {n}"
                out.append(
                    f'<a class="pka-cite" href="#{anchor_id(anchor_prefix, n)}" title="{esc(tip)}" '
                    f'aria-label="{esc(tip)}">[{n}]</a>'
                )
            else:
                out.append(esc(m.group(0)))
        else:
            out.append(glossary.abbr(m.group("term")))  # type: ignore[union-attr]  # term only with glossary
        pos = m.end()
    out.append(esc((answer or "")[pos:]))
    return "".join(out)


_LIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def _paragraphs(text: str) -> str:
    """Keep the answer's line structure: consecutive plain lines become separate paragraphs (markdown would
    otherwise run them together); list lines are left alone."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        out.append(line)
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (
            nxt is not None
            and line.strip()
            and nxt.strip()
            and not _LIST_LINE.match(line)
            and not _LIST_LINE.match(nxt)
        ):
            out.append("")
    return "\n".join(out)


def render_abstention(answer: str, *, filtered: bool = False, filters_text: str = "") -> str:
    """A calm, signposting markdown message for when the assistant found nothing to answer from.

    Under filters it says that nothing in the *filtered* documents answers, and names the filters."""
    if filtered:
        scope = f" ({esc(filters_text)})" if filters_text else ""
        parts = [f"**Nothing in the filtered documents{scope} answers this, so I haven't guessed.**", ""]
    else:
        parts = ["**I couldn't find this in the partnership's documents, so I haven't guessed.**", ""]
    body = (answer or "").strip()
    if body:
        parts += [esc(body), ""]
    tips = ["rephrase the question, or use the full name instead of an abbreviation"]
    if filtered:
        tips.insert(0, "clear the filters in the sidebar — they may have excluded the right document")
    tips.append("browse the **Document library** to see what the assistant knows about")
    parts.append("You could: " + "; ".join(tips) + ".")
    if "999" not in body:
        parts += ["", SIGNPOSTING]
    return "\n".join(parts)


# -- generative answers ----------------------------------------------------------------------------------------------

FALLBACK_REASONS: dict[str, str] = {
    "llm_timeout": "the language model did not answer in time",
    "llm_error": "the language model was unavailable",
    "llm_empty": "the language model sent an empty reply",
    "circuit_open": "the language model is paused after repeated failures",
    "llm_abstained": "the language model found no answer, but these passages do answer",
    "citations_failed": "the language model's answer was not supported well enough by its sources",
}


def render_draft(text: str) -> str:
    """The model's draft while it streams: escaped, marked as unchecked, with a cursor."""
    return (
        '<div class="pka-draft"><p class="pka-meta"><em>Draft — checking every sentence against its source…</em>'
        f"</p>{esc(_paragraphs(text))} ▌</div>"
    )


def mode_note(response: Mapping[str, Any]) -> str:
    """A line saying who wrote the answer, when a language model is in play; '' otherwise."""
    if response.get("mode") == "generative":
        return "Written by a language model from the sources; every sentence was checked against the passage it cites."
    reason = FALLBACK_REASONS.get(str(response.get("fallback_reason") or ""))
    return f"Quoted from the sources ({reason})." if reason else ""


# -- filters ---------------------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def describe_filters(filters: Mapping[str, Any] | None) -> str:
    """Plain words for what an answer searched, e.g. 'Annual report · ESSCP · 2020–2022'."""
    if not filters:
        return "all documents"
    parts: list[str] = []
    types = _as_list(filters.get("doc_type"))
    if types:
        parts.append("type: " + ", ".join(doc_type_label(t) for t in types))
    parts_ = _as_list(filters.get("partnership"))
    if parts_:
        parts.append("partnership: " + ", ".join(short_partnership(p) for p in parts_))
    y0, y1 = filters.get("year_from"), filters.get("year_to")
    if y0 and y1:
        parts.append(f"years {y0}–{y1}" if y0 != y1 else f"year {y0}")
    elif y0:
        parts.append(f"from {y0}")
    elif y1:
        parts.append(f"up to {y1}")
    return " · ".join(parts) if parts else "all documents"


# -- citations and highlighting --------------------------------------------------------------------------------------


def citation_meta(c: Mapping[str, Any]) -> str:
    """'Annual report · ESSCP · 5 Learning › 5.1 … · p. 3' (escaped)."""
    parts = [
        doc_type_label(c.get("doc_type")),
        short_partnership(c.get("partnership")),
        str(c.get("section") or ""),
        f"p. {c['page']}" if c.get("page") else "",
    ]
    return esc(" · ".join(p for p in parts if p))


def _fuzzy_find(haystack: str, needle: str, start: int = 0) -> tuple[int, int] | None:
    """Find ``needle`` in ``haystack`` from ``start``, exactly or with any run of whitespace matching any other."""
    needle = needle.strip()
    if not needle:
        return None
    i = haystack.find(needle, start)
    if i >= 0:
        return i, i + len(needle)
    words = needle.split()
    if not words:
        return None
    m = re.compile(r"\s+".join(re.escape(w) for w in words)).search(haystack, start)
    return (m.start(), m.end()) if m else None


def quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Spans of ``text`` covered by ``quote`` — whose parts the API joins with ' … ' — merged and in order."""
    if not text or not quote:
        return []
    spans: list[tuple[int, int]] = []
    cursor = 0
    for part in re.split(r"\s*…\s*|\s*\.\.\.\s*", quote):
        part = part.strip().lstrip("·•-* ").strip()
        if len(part) < 3:
            continue
        hit = _fuzzy_find(text, part, cursor) or _fuzzy_find(text, part, 0)
        if hit:
            spans.append(hit)
            cursor = hit[1]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    # Join spans separated only by whitespace/bullets so a quoted list reads as one highlight.
    joined: list[tuple[int, int]] = []
    for s, e in merged:
        if joined and re.fullmatch(r"[\s·•\-*]*", text[joined[-1][1] : s]):
            joined[-1] = (joined[-1][0], e)
        else:
            joined.append((s, e))
    return joined


def _with_breaks(fragment_html: str) -> str:
    """Newlines to <br> so the HTML stays one markdown block (a blank line would end it)."""
    return fragment_html.replace("\r\n", "\n").replace("\n", "<br>")


def highlight_html(
    text: str,
    spans: Sequence[tuple[int, int]],
    *,
    glossary: Glossary | None = None,
    mark_id: str | None = None,
) -> str:
    """``text`` escaped, glossary-annotated, with each span wrapped in <mark>; the first mark gets ``mark_id``."""
    out: list[str] = []
    pos = 0
    first = True
    for s, e in sorted(spans):
        s, e = max(s, pos), min(e, len(text))
        if s >= e:
            continue
        out.append(annotate(text[pos:s], glossary))
        id_attr = f' id="{esc(mark_id)}"' if first and mark_id else ""
        out.append(f'<mark class="pka-quote"{id_attr}>{annotate(text[s:e], glossary)}</mark>')
        first = False
        pos = e
    out.append(annotate(text[pos:], glossary))
    return _with_breaks("".join(out))


def highlight_passage(
    passage: str,
    quote: str,
    *,
    glossary: Glossary | None = None,
    start: int | None = None,
    end: int | None = None,
    element_id: str = "",
) -> str:
    """The passage with the cited sentences highlighted.

    ``start``/``end``, when given, are offsets of the quote relative to the passage; otherwise the quote's text is
    looked up in the passage (the API's citation offsets index the whole document, not the passage).
    """
    spans: list[tuple[int, int]] = []
    if start is not None and end is not None and 0 <= start < end <= len(passage):
        spans = quote_spans(passage[start:end], quote)
        spans = [(s + start, e + start) for s, e in spans] or [(start, end)]
    else:
        spans = quote_spans(passage, quote)
    id_attr = f' id="{esc(element_id)}"' if element_id else ""
    return f'<div class="pka-passage"{id_attr}>{highlight_html(passage, spans, glossary=glossary)}</div>'


def citation_source(c: Mapping[str, Any], prefix: str, *, glossary: Glossary | None = None) -> str:
    """One source under an answer: a <details> whose summary is "[n] title / meta" and whose body is the passage
    with the quote highlighted. The passage carries the id the answer's [n] links to, so one click on [n] opens
    it (the browser reveals a closed <details> around a fragment target) and scrolls to it."""
    n = c.get("n")
    head = (
        f'<summary class="pka-cite-head"><strong>[{esc(str(n))}]</strong> '
        f"{esc(str(c.get('title') or c.get('document_id') or ''))} "
        f'<span class="pka-meta">· {citation_meta(c)} · show the passage</span></summary>'
    )
    body = highlight_passage(
        str(c.get("text") or ""), str(c.get("quote") or ""), glossary=glossary, element_id=anchor_id(prefix, n or 0)
    )
    return f'<details class="pka-source">{head}{body}</details>'


def document_spans(text: str, start: int | None, end: int | None, quote: str = "") -> list[tuple[int, int]]:
    """Spans to highlight in a whole document: the quote's parts inside ``text[start:end]``, else that range,
    else wherever the quote's text is found."""
    if start is not None and end is not None and 0 <= start < end <= len(text):
        inner = quote_spans(text[start:end], quote) if quote else []
        return [(s + start, e + start) for s, e in inner] or [(start, end)]
    return quote_spans(text, quote) if quote else []


def context_window(text: str, spans: Sequence[tuple[int, int]], before: int = 300, after: int = 700) -> tuple[int, int]:
    """A window of ``text`` around the spans, snapped to nearby line breaks."""
    if not spans:
        return 0, min(len(text), before + after)
    first, last = spans[0][0], spans[-1][1]
    lo = max(0, first - before)
    if lo > 0:
        nl = text.find("\n", lo, first)
        if nl != -1 and nl - lo < 200:
            lo = nl + 1
    hi = min(len(text), last + after)
    if hi < len(text):
        nl = text.rfind("\n", last, hi)
        if nl != -1 and hi - nl < 200:
            hi = nl
    return lo, hi


def highlight_document(
    text: str,
    start: int | None,
    end: int | None,
    quote: str = "",
    *,
    glossary: Glossary | None = None,
    mark_id: str = "pka-doc-quote",
    window: tuple[int, int] | None = None,
) -> str:
    """Whole document (or ``window`` of it) as HTML with the cited range highlighted."""
    spans = document_spans(text, start, end, quote)
    lo, hi = window if window else (0, len(text))
    local = [(max(s, lo) - lo, min(e, hi) - lo) for s, e in spans if e > lo and s < hi]
    body = highlight_html(text[lo:hi], local, glossary=glossary, mark_id=mark_id)
    prefix = "… " if lo > 0 else ""
    suffix = " …" if hi < len(text) else ""
    return f'<div class="pka-document">{prefix}{body}{suffix}</div>'


# -- documents -------------------------------------------------------------------------------------------------------


def document_rows(documents: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the document library table."""
    rows = []
    for d in documents:
        rows.append(
            {
                "Title": d.get("title") or d.get("document_id"),
                "Type": doc_type_label(d.get("doc_type")),
                "Partnership": d.get("partnership") or "",
                "Year": d.get("year") if d.get("year") is not None else (d.get("date") or ""),
                "Chunks": d.get("chunks", 0),
                "Characters": d.get("chars", 0),
                "Source": d.get("source_url") or "",
                "Id": d.get("document_id"),
            }
        )
    return sorted(rows, key=lambda r: (str(r["Type"]), str(r["Title"])))


def partnerships_of(documents: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(d.get("partnership")) for d in documents if d.get("partnership")})


def year_bounds(documents: Iterable[Mapping[str, Any]]) -> tuple[int, int] | None:
    years = [int(d["year"]) for d in documents if isinstance(d.get("year"), int)]
    return (min(years), max(years)) if years else None


# -- styles ----------------------------------------------------------------------------------------------------------

CSS = """
<style>
:root { --pka-mark-bg: #fff1a8; --pka-mark-fg: #1a1a1a; --pka-link: #0b5cad; }
.pka-cite { color: var(--pka-link); font-weight: 600; text-decoration: underline; padding: 0 1px; }
.pka-cite:focus-visible, .stApp a:focus-visible, .stApp button:focus-visible {
  outline: 3px solid #ffbf47; outline-offset: 2px; }
mark.pka-quote { background: var(--pka-mark-bg); color: var(--pka-mark-fg); padding: 0 2px; border-radius: 2px;
  box-shadow: inset 0 -2px 0 #b58900; }
abbr[title] { text-decoration: underline dotted; cursor: help; }
.pka-passage, .pka-document { line-height: 1.55; overflow-wrap: anywhere; }
.pka-passage { border-left: 4px solid #8a9bb0; padding: 0.4rem 0.8rem; background: rgba(127,127,127,0.06); }
.pka-meta { color: inherit; opacity: 0.85; font-size: 0.9rem; }
.pka-cite-head { margin: 0.2rem 0 0 0; font-size: 0.95rem; cursor: pointer; }
details.pka-source { margin: 0.3rem 0; }
details.pka-source .pka-passage { margin-top: 0.3rem; scroll-margin-top: 5rem; }
.pka-urgent { border: 2px solid #b10e1e; border-left-width: 8px; background: #fdecea; color: #1a1a1a;
  padding: 0.6rem 1rem; border-radius: 4px; margin-bottom: 0.8rem; }
.pka-urgent ul { margin: 0.2rem 0 0.4rem 1.2rem; }
.pka-urgent p { margin: 0.2rem 0; }
.pka-urgent-head { font-size: 1.05rem; color: #8a0b17; }
.pka-step-done { opacity: 0.75; }
@media (max-width: 640px) { .pka-passage { padding: 0.3rem 0.5rem; } }
</style>
"""
