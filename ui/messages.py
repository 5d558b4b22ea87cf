"""How the API words an answer, shown in plain words: an urgent answer's fixed steps as an alert, and the line
saying what was searched (filters, how a follow-up was understood, time). Strings in, HTML/markdown out; no
Streamlit import. Everything from the API is escaped (ui/markup.esc)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.contracts import URGENT_DOCUMENTS_HEADING
from ui.answers import describe_filters
from ui.markup import esc

# -- urgent concerns -------------------------------------------------------------------------------------------------


def split_urgent(answer: str) -> tuple[str, str]:
    """An urgent answer's (signposting steps, what the documents say); the steps come first in the API's text."""
    text = (answer or "").replace("\r\n", "\n").strip()
    steps, sep, rest = text.partition(URGENT_DOCUMENTS_HEADING)
    if not sep:
        steps, _, rest = text.partition("\n\n")
    return steps.strip(), rest.strip()


def render_urgent_steps(steps: str) -> str:
    """The signposting steps as an alert box (role="alert"): its bold first line as the heading, "- " lines as a
    list, other lines as paragraphs. Escaped; nothing is added to what the API sent."""
    out: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if items:
            out.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for line in steps.split("\n"):
        line = line.strip()
        if not line:
            continue
        if re.match(r"^[-*•]\s+", line):
            items.append(esc(re.sub(r"^[-*•]\s+", "", line)))
            continue
        flush()
        bold = re.fullmatch(r"\*\*(.+?)\*\*", line)
        if bold and not out:
            out.append(f'<p class="pka-urgent-head"><strong>{esc(bold.group(1))}</strong></p>')
        else:
            out.append(f"<p>{esc(line.replace('**', ''))}</p>")
    flush()
    return f'<div class="pka-urgent" role="alert">{"".join(out)}</div>'


# -- what was searched ---------------------------------------------------------------------------------------------


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", (text or "").lower()) if len(w) > 2}


def follow_up_note(question: str, standalone: str) -> str:
    """Plain words for how a follow-up was understood, or '' when the rewrite adds nothing meaningful.

    The API either swaps the subject of the previous question ("and child 4?" -> "What did the Child 4 review
    teach?") or adds the previous question to this one ("what did it recommend? — What did the Child Z review
    teach?"). The first is shown as the question it became; the second as "a follow-up to" the earlier one."""
    question, standalone = (question or "").strip(), (standalone or "").strip()
    if not standalone or _content_words(standalone) <= _content_words(question):
        return ""
    if standalone.startswith(question):
        rest = standalone[len(question) :].strip()
        rest = re.sub(r"^(?:—|-|–)\s*", "", rest)
        rest = re.sub(r"^\((.*)\)$", r"\1", rest).strip()
        if rest:
            return f"Taken as a follow-up to your earlier question “{rest}”"
    return f"Taken to mean “{standalone}”"


def searched_caption(response: Mapping[str, Any]) -> str:
    """The 'what was searched' line shown under an answer."""
    parts = [f"Searched {describe_filters(response.get('filters'))}"]
    note = follow_up_note(str(response.get("question") or ""), str(response.get("standalone_question") or ""))
    if note:
        parts.append(note)
    timings = response.get("timings_ms") or {}
    if timings:
        total = sum(float(v) for v in timings.values() if isinstance(v, int | float))
        parts.append(f"{total:.0f} ms" if total < 1000 else f"{total / 1000:.1f} s")
    return " · ".join(parts)
