"""Extractive answers: pick the sentences or list items of the retrieved passages that answer the question,
shaped by the kind of question, each with its [n] citation; or abstain when nothing answers it.

Imports: stdlib, core. No LLM: every word of an answer line is quoted from a cited passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from core.text import sentence_spans, terms, words
from core.types import Chunk, Citation, SearchHit

_NUMERIC_Q = re.compile(
    r"\bhow (?:many|much|long|often|fast|quickly|soon)\b|\bwhat (?:number|percentage|proportion|figure|rate)\b"
    r"|\bcost|\bfigures?\b|\bnumbers?\b|\bhow big\b|\bwhat (?:age|year|date)\b|\bwhen (?:was|were|did|will)\b",
    re.I,
)
_WHO_Q = re.compile(r"^\W*(?:and\s+)?who\b|\bwho (?:chairs|presented|provides|leads|is|was|has|had|are|were)\b", re.I)
_LEARNING_Q = re.compile(r"\b(?:learn\w*|teach\w*|taught|lessons?|messages?)\b", re.I)
_LIST_Q = re.compile(
    r"\b(?:priorit\w+|what are|which|list|themes|challenges|courses|policies|need to do|areas|steps|actions|"
    r"key points|what was being|recommendations)\b",
    re.I,
)
_COMPARE_Q = re.compile(r"\b(?:compare|comparison|both|each|do they match|versus|vs\.?|differ\w*)\b", re.I)
_DIGIT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty)\b", re.I
)
_TIME_UNIT = re.compile(r"\b(?:days?|weeks?|months?|years?|hours?)\b", re.I)
_HOW_MANY_NOUN = re.compile(
    r"\bhow many ([a-z][a-z\s-]{2,40}?)(?:\s+(?:did|does|do|was|were|is|are|has|have|had)\b|[?,]|$)", re.I
)
_YEAR = re.compile(r"\b(20\d\d|19\d\d)(?:\s*[/-]\s*(\d{2,4}))?\b")
_NAME = re.compile(r"\b(?:[A-Z][a-z]+ [A-Z][a-z]{2,}|Councillor [A-Z][a-z]+|Mr\.? [A-Z][a-z]+|Ms\.? [A-Z][a-z]+)\b")
_ROLE = re.compile(
    r"\b(?:Independent Chair|Independent Scrutineer|Scrutineer|Chair(?:man|person)?|Director|Head of|Manager|Lead|"
    r"Officer|Councillor|Cabinet Member|Lay Member|Superintendent|Nurse|Consultant)\b"
)
_NOT_NAMES = {
    "East Sussex",
    "West Sussex",
    "County Council",
    "Safeguarding Children",
    "Children Partnership",
    "Rapid Reviews",
    "Local Child",
    "Child Safeguarding",
    "Practice Review",
    "Serious Case",
}
_BULLET = re.compile(r"^\s*(?:[·•▪◦●\-–*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")

SIGNPOST = (
    "For a procedure, check your partnership's multi-agency child protection procedures (for Sussex, the "
    "Pan-Sussex procedures) or ask your Designated Safeguarding Lead. If you are worried about a child now, "
    "contact the local front door or MASH; if a child is in immediate danger, call 999."
)


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of a retrieved chunk, with absolute offsets into its document."""

    hit: SearchHit
    start: int
    end: int
    text: str
    bullet: bool
    intro: bool  # ends with ':' and leads into a list


@dataclass
class Composition:
    answer: str
    abstained: bool
    citations: list[Citation]
    kind: str


class Composer:
    def __init__(self, idf: Callable[[str], float], *, threshold: float = 0.5) -> None:
        self.idf = idf
        self.threshold = threshold

    # ---- public ----------------------------------------------------------------------------------------------
    def compose(self, question: str, hits: list[SearchHit]) -> Composition:
        q_terms = list(dict.fromkeys(terms(question)))
        if not hits or not q_terms:
            return self._abstain(question)
        units = [u for h in hits for u in _units(h)]
        scored = sorted(((self._score(u, q_terms), u) for u in units), key=lambda p: -p[0])
        scored = [(s, u) for s, u in scored if self._admissible(question, u)]
        if not scored or self._coverage(scored[0][1], q_terms) < self.threshold:
            return self._abstain(question)
        if _NUMERIC_Q.search(question) and not any(
            self._answers_number(question, u) for s, u in scored[:6] if self._coverage(u, q_terms) >= self.threshold
        ):
            return self._abstain(question)
        if _WHO_Q.search(question) and not any(
            _names_someone(u.text, question) for s, u in scored[:4] if self._coverage(u, q_terms) >= self.threshold
        ):
            return self._abstain(question)
        if _COMPARE_Q.search(question):
            lines = self._compare(scored, q_terms)
            if lines:
                return _render(lines, "compare")
        if _LEARNING_Q.search(question) or _LIST_Q.search(question):
            lines = self._list(question, hits, q_terms)
            if lines:
                return _render(lines, "list")
        return _render(self._facts(question, scored, q_terms), "fact")

    # ---- scoring ---------------------------------------------------------------------------------------------
    def _coverage(self, unit: Unit, q_terms: list[str]) -> float:
        """Share of the question's (idf-weighted) terms found in the unit; its document title and section count
        for half."""
        u_terms = set(terms(unit.text))
        ctx_terms = set(terms(unit.hit.chunk.context)) | set(terms(unit.hit.chunk.partnership))
        total = sum(self.idf(t) for t in q_terms)
        got = sum(self.idf(t) * (1.0 if t in u_terms else 0.5 if t in ctx_terms else 0.0) for t in q_terms)
        return got / total if total else 0.0

    def _score(self, unit: Unit, q_terms: list[str]) -> float:
        return self._coverage(unit, q_terms) + 0.2 / unit.hit.rank

    def _admissible(self, question: str, unit: Unit) -> bool:
        """A unit that names a different period than the question asks about cannot answer it."""
        q_years = _years(question)
        if not q_years:
            return True
        u_years = _years(unit.text)
        return not u_years or max(q_years) in u_years

    def _answers_number(self, question: str, unit: Unit) -> bool:
        if not _DIGIT.search(unit.text):
            return False
        m = _HOW_MANY_NOUN.search(question)
        if m and not _TIME_UNIT.search(m.group(1)):
            # "how many reviews" is not answered by "within fifteen days"
            numbers = list(
                re.finditer(
                    r"\b[\d,]+\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty)\b",
                    unit.text,
                    re.I,
                )
            )
            return any(not _TIME_UNIT.match(unit.text[n.end() : n.end() + 8].strip()) for n in numbers)
        return True

    # ---- shapes ----------------------------------------------------------------------------------------------
    def _facts(self, question: str, scored: list[tuple[float, Unit]], q_terms: list[str]) -> list[Unit]:
        numeric = bool(_NUMERIC_Q.search(question))
        pool = [(s, u) for s, u in scored if not numeric or self._answers_number(question, u)] or scored
        best_score, best = pool[0]
        chosen = [best]
        covered = set(terms(best.text))
        for s, u in pool[1:8]:
            if len(chosen) >= 3 or s < 0.8 * best_score:
                break
            new = set(q_terms) & (set(terms(u.text)) - covered)
            if new and not _overlaps(u, chosen):
                chosen.append(u)
                covered |= set(terms(u.text))
        return chosen

    def _list(self, question: str, hits: list[SearchHit], q_terms: list[str]) -> list[Unit]:
        """The list (bullets with their lead-in) that best matches the question, from the top passages."""
        best: tuple[float, list[Unit]] | None = None
        for hit in hits[:5]:
            units = _units(hit)
            for i, u in enumerate(units):
                if not u.bullet or (i > 0 and units[i - 1].bullet):
                    continue
                items = [u]
                for v in units[i + 1 :]:
                    if not v.bullet:
                        break
                    items.append(v)
                lead = [v for v in units[max(0, i - 2) : i] if not v.bullet]
                if len(items) < 2 and not lead:
                    continue
                lead_text = " ".join(v.text for v in lead) + " " + hit.chunk.context
                lead_cov = _share(set(terms(lead_text)), q_terms, self.idf)
                item_cov = _share(set(terms(" ".join(v.text for v in items))), q_terms, self.idf)
                score = lead_cov + 0.5 * item_cov + 0.3 / hit.rank
                if best is None or score > best[0]:
                    best = (score, lead[-1:] + items[:12])
        if best is None or best[0] < self.threshold:
            return []
        return best[1]

    def _compare(self, scored: list[tuple[float, Unit]], q_terms: list[str]) -> list[Unit]:
        per_doc: dict[str, Unit] = {}
        for _s, u in scored:
            if u.hit.chunk.doc_id not in per_doc and self._coverage(u, q_terms) >= self.threshold * 0.8:
                per_doc[u.hit.chunk.doc_id] = u
            if len(per_doc) == 3:
                break
        return list(per_doc.values()) if len(per_doc) >= 2 else []

    def _abstain(self, question: str) -> Composition:
        text = "I can't find an answer to that in the partnership's knowledge base, so I won't guess. " + SIGNPOST
        return Composition(answer=text, abstained=True, citations=[], kind="abstain")


def _share(have: set[str], q_terms: list[str], idf: Callable[[str], float]) -> float:
    total = sum(idf(t) for t in q_terms)
    return sum(idf(t) for t in q_terms if t in have) / total if total else 0.0


def _overlaps(unit: Unit, chosen: list[Unit]) -> bool:
    return any(
        u.hit.chunk.doc_id == unit.hit.chunk.doc_id and u.start < unit.end and unit.start < u.end for u in chosen
    )


def _years(text: str) -> set[int]:
    years: set[int] = set()
    for m in _YEAR.finditer(text):
        first = int(m.group(1))
        years.add(first)
        if m.group(2):
            second = m.group(2)
            years.add(int(second) if len(second) == 4 else (first // 100) * 100 + int(second))
    return years


def _names_someone(text: str, question: str) -> bool:
    """A person's name, or a role the question did not already name."""
    if any(n not in _NOT_NAMES and n.lower() not in question.lower() for n in _NAME.findall(text)):
        return True
    q_words = set(words(question))
    return any(not set(words(r)) <= q_words and r.lower() not in ("chair", "chairman") for r in _ROLE.findall(text))


def _units(hit: SearchHit) -> list[Unit]:
    chunk: Chunk = hit.chunk
    out = []
    for s, e in sentence_spans(chunk.text, base=chunk.start):
        text = chunk.text[s - chunk.start : e - chunk.start]
        if len(words(text)) < 2 and not _DIGIT.search(text):
            continue
        out.append(Unit(hit=hit, start=s, end=e, text=text, bullet=bool(_BULLET.match(text)), intro=text.endswith(":")))
    return out


def _render(units: list[Unit], kind: str) -> Composition:
    numbers: dict[str, int] = {}
    citations: list[Citation] = []
    lines: list[str] = []
    for u in units:
        c = u.hit.chunk
        if c.chunk_id not in numbers:
            numbers[c.chunk_id] = len(numbers) + 1
            citations.append(
                Citation(
                    n=numbers[c.chunk_id],
                    chunk_id=c.chunk_id,
                    document_id=c.doc_id,
                    title=c.title,
                    section=c.section,
                    page=c.page,
                    text=c.text,
                    quote=u.text,
                    start=u.start,
                    end=u.end,
                    doc_type=c.doc_type,
                    partnership=c.partnership,
                )
            )
        else:
            i = numbers[c.chunk_id] - 1
            old = citations[i]
            if u.text not in old.quote:
                citations[i] = old.model_copy(update={"quote": f"{old.quote} … {u.text}", "end": max(old.end, u.end)})
        body = _BULLET.sub("", u.text).strip() if u.bullet else u.text.strip()
        marker = f"[{numbers[c.chunk_id]}]"
        if kind == "compare":
            lines.append(f"- {c.title}: {body} {marker}")
        elif u.bullet:
            lines.append(f"- {body} {marker}")
        else:
            lines.append(f"{body} {marker}")
    return Composition(answer="\n".join(lines), abstained=False, citations=citations, kind=kind)
