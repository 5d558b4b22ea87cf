"""Sources and highlighting: a citation's passage or a whole document with the quoted text marked. Strings in,
HTML out (escaped through ui/markup); no Streamlit import."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.contracts import doc_type_label
from ui.markup import Glossary, anchor_id, annotate, esc, short_partnership

# -- citations and highlighting ------------------------------------------------------------------------------------


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
