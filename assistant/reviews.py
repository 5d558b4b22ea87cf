"""The review index: every case review the corpus mentions (Child X, Child 4, Family CC, thematic reviews), with
its partnership, year, type and key-learning points tagged with themes from knowledge/themes.yaml.

Built from the committed chunks, so it always matches the
store; rebuilt with the retrieval index.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import BadInput
from core.text import terms
from core.types import Chunk

_NAME = re.compile(r"\b(?:Child|Family|Baby|Sibling)\s+(?:[A-Z]{1,2}|\d{1,2})\b(?![a-z])|\bThematic Review\b")
_KEY_LEARNING = re.compile(r"^\s*key learning\s*:?\s*$", re.I | re.M)
_BULLET = re.compile(r"^\s*(?:[·•▪◦●\-–*]|\(?\d{1,2}[.)])\s+")
_NOT_REVIEWS = {"Child Protection", "Child Death", "Child Exploitation", "Child Safeguarding"}


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    phrases: tuple[str, ...]

    def matches(self, text_terms: list[str]) -> bool:
        joined = " " + " ".join(text_terms) + " "
        return any(f" {' '.join(terms(p))} " in joined for p in self.phrases if terms(p))


@dataclass(frozen=True)
class LearningPoint:
    text: str
    chunk_id: str
    start: int  # offsets into the document's cleaned text
    end: int
    themes: tuple[str, ...]


@dataclass
class Review:
    id: str
    name: str
    partnership: str
    year: int | None
    review_type: str  # LCSPR, SCR, rapid review, thematic review, review
    doc_id: str
    title: str
    chunk_id: str  # where the review is described
    summary: str
    learning: list[LearningPoint] = field(default_factory=list)

    @property
    def themes(self) -> list[str]:
        return sorted({t for p in self.learning for t in p.themes})


def load_themes(path: Path) -> list[Theme]:
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} is not valid YAML: {exc}") from exc
    return [
        Theme(id=str(t["id"]), label=str(t["label"]), phrases=tuple(str(p) for p in t.get("phrases", [])))
        for t in data.get("themes", []) or []
    ]


def _slug(*parts: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", " ".join(parts).lower()).strip("-")


_TYPES = [
    ("LCSPR", re.compile(r"\bLCSPRs?\b|local child safeguarding practice reviews?", re.I)),
    ("SCR", re.compile(r"\bSCRs?\b|serious case reviews?", re.I)),
    ("rapid review", re.compile(r"\brapid reviews?\b", re.I)),
]


def _review_type(name: str, doc_text: str, pos: int) -> str:
    """The review type named nearest the mention: on its own line (or just after it), else the closest mention
    before it in the document ("... signed off the following LCSPRs:")."""
    if name == "Thematic Review":
        return "thematic review"
    line_start = doc_text.rfind("\n", 0, pos) + 1
    line_end = doc_text.find("\n", pos)
    line_end = len(doc_text) if line_end < 0 else line_end
    own = doc_text[line_start:line_end]
    nxt_end = doc_text.find("\n", line_end + 1)
    nxt = doc_text[line_end + 1 : nxt_end if nxt_end > 0 else len(doc_text)]
    if nxt.strip().startswith(name):  # "Child 1" then "Child 1 Rapid Review Learning"
        own += " " + nxt
    here = pos - line_start
    found = [(abs(m.start() - here), kind) for kind, pattern in _TYPES for m in pattern.finditer(own)]
    if found:
        return min(found)[1]
    before = doc_text[max(0, pos - 2000) : line_start]
    best, where = "review", -1
    for kind, pattern in _TYPES:
        for m in pattern.finditer(before):
            if m.start() > where:
                best, where = kind, m.start()
    return best


def _short_partnership(partnership: str) -> str:
    m = re.search(r"\(([A-Z]{2,8})\)", partnership)
    return m.group(1) if m else partnership


def build_index(chunks: list[Chunk], themes: list[Theme]) -> list[Review]:
    """Find each review's described block (a chunk naming it before a 'Key learning' list) and its mentions."""
    reviews: dict[str, Review] = {}
    doc_texts: dict[str, list[str]] = {}
    for chunk in chunks:  # each document's text, with the gaps between chunks as spaces, for type look-back
        parts = doc_texts.setdefault(chunk.doc_id, [])
        have = sum(len(p) for p in parts)
        parts.append(" " * max(0, chunk.start - have) + chunk.text)
    full = {d: "".join(p) for d, p in doc_texts.items()}
    for chunk in chunks:
        text = chunk.text
        for m in _NAME.finditer(text):
            name = m.group(0)
            if name in _NOT_REVIEWS:
                continue
            key = _slug(chunk.partnership or chunk.doc_id, name)
            if key not in reviews:
                line_end = text.find("\n", m.start())
                summary = text[m.start() : line_end if line_end > 0 else len(text)].strip()
                reviews[key] = Review(
                    id=key,
                    name=name,
                    partnership=chunk.partnership,
                    year=chunk.year,
                    review_type=_review_type(name, full[chunk.doc_id], chunk.start + m.start()),
                    doc_id=chunk.doc_id,
                    title=chunk.title,
                    chunk_id=chunk.chunk_id,
                    summary=summary[:300],
                )
        learning = _KEY_LEARNING.search(text)
        if learning is None:
            continue
        before = [m for m in _NAME.finditer(text[: learning.start()]) if m.group(0) not in _NOT_REVIEWS]
        if not before:
            continue
        key = _slug(chunk.partnership or chunk.doc_id, before[0].group(0))
        review = reviews[key]
        if review.learning:
            continue  # first described block wins (a later duplicate heading repeats it)
        review.chunk_id = chunk.chunk_id
        pos = learning.end()
        for line in text[pos:].split("\n"):
            offset = text.find(line, pos)
            pos = offset + len(line)
            if not line.strip():
                continue
            if not _BULLET.match(line):
                break
            item = _BULLET.sub("", line).strip()
            start = chunk.start + offset + (len(line) - len(line.lstrip())) + (len(line.strip()) - len(item))
            review.learning.append(
                LearningPoint(
                    text=item,
                    chunk_id=chunk.chunk_id,
                    start=start,
                    end=start + len(item),
                    themes=tuple(t.id for t in themes if t.matches(terms(item, keep_stopwords=True))),
                )
            )
    return sorted(reviews.values(), key=lambda r: (r.partnership, r.doc_id, r.name))


def theme_counts(reviews: list[Review]) -> Counter[str]:
    return Counter(t for r in reviews for t in r.themes)


def label(review: Review) -> str:
    year = f" {review.year}" if review.year else ""
    return f"{review.name} ({review.review_type}, {_short_partnership(review.partnership)}{year})"
