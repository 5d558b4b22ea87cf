"""Escaping and glossary markup: strings in, HTML strings out. No Streamlit import, so all of it unit-tests.

Everything that came from the knowledge base is HTML-escaped before any markup is added, so a document can never
inject tags into the page. ``$`` is escaped too, because Streamlit's markdown would read ``$...$`` as maths.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

# -- small helpers -------------------------------------------------------------------------------------------------


def esc(text: str) -> str:
    """HTML-escape text for st.markdown(unsafe_allow_html=True); also neutralise ``$`` (maths)."""
    return html.escape(text or "", quote=True).replace("$", "&#36;")


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


# -- glossary ------------------------------------------------------------------------------------------------------


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


def term_regex(glossary: Glossary | None) -> str | None:
    if not glossary:
        return None
    return rf"(?<![\w/.-])(?:{glossary.pattern})(?![\w/-])"


def annotate(text: str, glossary: Glossary | None = None) -> str:
    """Escape ``text`` and wrap glossary abbreviations in <abbr title="expansion">."""
    rx = term_regex(glossary)
    if glossary is None or not rx or not text:
        return esc(text)
    out: list[str] = []
    pos = 0
    for m in re.finditer(rx, text):
        out.append(esc(text[pos : m.start()]))
        out.append(glossary.abbr(m.group(0)))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def expand_abbreviations(text: str, glossary: Glossary | None) -> str:
    """Alias of :func:`annotate`, named after what it does for a reader."""
    return annotate(text, glossary)
