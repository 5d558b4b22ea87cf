"""An answer as markdown: its [n] markers linked to their sources, the abstention message, the streaming draft,
the line saying who wrote it, and the filters in plain words. Strings in, strings out; no Streamlit import."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from core.contracts import ABSTAINING_REASONS, FALLBACK_REASONS, SIGNPOST, doc_type_label
from ui.markup import Glossary, anchor_id, esc, short_partnership, term_regex

_MARKER = r"\[(\d{1,3})\]"


# -- answers -------------------------------------------------------------------------------------------------------


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
    term_rx = term_regex(glossary)
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
        elif glossary is not None:  # the term group exists only with a glossary
            out.append(glossary.abbr(m.group("term")))
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
        parts += ["", SIGNPOST]
    return "\n".join(parts)


# -- generative answers --------------------------------------------------------------------------------------------


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
    code = str(response.get("fallback_reason") or "")
    reason = FALLBACK_REASONS.get(code) if code not in ABSTAINING_REASONS else None
    return f"Quoted from the sources ({reason})." if reason else ""


# -- filters -------------------------------------------------------------------------------------------------------


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
