"""Evidence units: the sentences and list items of retrieved passages (with their passage as context and absolute
character offsets for citations), the lists they form, and glossary entries as citable units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.glossary import Glossary
from core.text import sentence_spans, words
from core.types import Chunk, SearchHit

# A list marker at the start of a line: a bullet symbol, "1." / "(2)" or "a)" (typography, not vocabulary).
BULLET = re.compile(r"^\s*(?:[·•▪◦●\-–*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_DIGIT = re.compile(r"\d")
GLOSSARY_DOC = "glossary.yaml"


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of a retrieved chunk, with absolute offsets into its document."""

    hit: SearchHit
    start: int
    end: int
    text: str
    bullet: bool
    intro: bool  # ends with ':' and leads into a list
    heading: bool  # a title line: it introduces an answer but is seldom one
    index: int  # position among the chunk's units
    count: int  # how many units the chunk has

    @property
    def chunk(self) -> Chunk:
        return self.hit.chunk

    @property
    def body(self) -> str:
        """The text without its list marker."""
        return BULLET.sub("", self.text).strip() if self.bullet else self.text.strip()


def split_units(hit: SearchHit) -> list[Unit]:
    chunk = hit.chunk
    spans = []
    for s, e in sentence_spans(chunk.text, base=chunk.start):
        text = chunk.text[s - chunk.start : e - chunk.start]
        if len(words(text)) < (1 if BULLET.match(text) else 2) and not _DIGIT.search(text):
            continue  # a lone marker or word carries no evidence (a one-word list item does)
        spans.append((s, e, text))
    out = []
    for i, (s, e, text) in enumerate(spans):
        bullet = bool(BULLET.match(text))
        # A short line without closing punctuation is a title (typography of headings).
        heading = not bullet and len(text) < 90 and not re.search(r"[.:;!?]$", text)
        out.append(
            Unit(
                hit=hit,
                start=s,
                end=e,
                text=text,
                bullet=bullet,
                intro=text.endswith(":"),
                heading=heading,
                index=i,
                count=len(spans),
            )
        )
    return out


def marker(unit: Unit) -> str:
    m = BULLET.match(unit.text)
    return re.sub(r"\d+|[a-z]", "n", m.group(0).strip()) if m else ""


def list_around(units: list[Unit], at: int) -> list[Unit]:
    """The list that unit `at` belongs to or leads into: its lead-in (if any) and its items, with short unbulleted
    lines between items (e.g. "Lead: ...") passed over. Empty when the unit is in no list."""
    if not units:
        return []
    i = at
    lead: int | None
    if not units[i].bullet:
        if not units[i].intro or i + 1 >= len(units) or not units[i + 1].bullet:
            return []
        lead, first = i, i + 1
    else:
        first = i
        while first > 0 and (units[first - 1].bullet or _between(units, first - 1)):
            first -= 1
        while first < len(units) and not units[first].bullet:
            first += 1
        lead = first - 1 if first > 0 and units[first - 1].intro else None
    sibling = marker(units[lead]) if lead is not None and units[lead].bullet else None
    items = []
    j = first
    while j < len(units):
        v = units[j]
        if v.bullet and sibling is not None and marker(v) == sibling:
            break  # a sibling of the lead-in: the sub-list is over
        if v.bullet:
            items.append(v)
        elif not _between(units, j):
            break
        j += 1
    return ([units[lead]] if lead is not None else []) + items


def _between(units: list[Unit], j: int) -> bool:
    """A short unbulleted line followed by a bullet sits inside a list (an attribute line such as "Lead: ...")."""
    return not units[j].bullet and len(units[j].text) < 160 and j + 1 < len(units) and units[j + 1].bullet


def glossary_units(glossary: Glossary | None, question: str) -> list[Unit]:
    """Glossary entries whose term the question uses, as citable units ("LCSPR: Local Child Safeguarding Practice
    Review"); the glossary is one of the deployment's own documents."""
    if glossary is None:
        return []
    out = []
    for n, t in enumerate(glossary.terms):
        flags = re.IGNORECASE if len(t.term) > 3 else 0
        if not re.search(rf"(?<![\w&]){re.escape(t.term)}(?![\w&])", question, flags=flags):
            continue
        text = f"{t.term}: {t.expansion}" + (f". {t.note}" if t.note else "")
        chunk = Chunk(
            chunk_id=f"glossary:{t.term}",
            doc_id=GLOSSARY_DOC,
            ordinal=n,
            text=text,
            start=0,
            end=len(text),
            section="Glossary",
            kind="glossary",
            context="Glossary of safeguarding terms and abbreviations",
            doc_hash="glossary",
            title="Glossary (knowledge/glossary.yaml)",
            doc_type="other",
        )
        hit = SearchHit(chunk=chunk, score=0.0, rank=99, dense=0.0)
        out.append(
            Unit(hit=hit, start=0, end=len(text), text=text, bullet=False, intro=False, heading=False, index=0, count=1)
        )
    return out
