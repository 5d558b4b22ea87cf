"""Extractive answers: pick the sentences or list items of the retrieved passages that answer the question,
shaped by the kind of question, each with its [n] citation; or abstain when nothing answers it.

Imports: stdlib, core. No LLM: every word of an answer line is quoted from a cited passage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assistant.citing import Citer
from assistant.evidence import coverage
from assistant.retrieval import place_match, places, review_names
from core.contracts import SIGNPOST
from core.text import sentence_spans, terms, words
from core.types import Chunk, Citation, SearchHit

_NUMERIC_Q = re.compile(
    r"\bhow (?:many|much|long|often|fast|quickly|soon)\b|\bwhat (?:number|percentage|proportion|figure|rate)\b"
    r"|\bcost|\bfigures?\b|\bnumbers?\b|\bhow big\b|\bwhat (?:age|year|date)\b|\bwhen (?:was|were|did|will)\b",
    re.I,
)
_WHO_Q = re.compile(r"^\W*(?:and\s+)?who\b|\bwho (?:chairs|presented|provides|leads|is|was|has|had|are|were)\b", re.I)
_PROCEDURE_Q = re.compile(
    r"\bwhat (?:does|do|did|should|must|would) .{0,80}?\b(?:tell|ask|expect|require|want)s? (?:you|us|me|staff|"
    r"practitioners|professionals)? ?to do\b|\bwhat (?:should|must) (?:i|we|you|staff|practitioners|professionals)"
    r"\b|\bwhat to do\b|\bwhat happens (?:if|when|next)\b",
    re.I,
)
_ACTION = re.compile(
    r"\b(?:must|should|shall|will|need(?:s)? to|(?:is|are) (?:required|expected) to|(?:is|are) to|can|may|refer|"
    r"contact|discuss|report|inform|notify|escalate|call)\b",
    re.I,
)
_CONTACT_Q = re.compile(
    r"\b(?:phone|telephone|tel|mobile|contact|helpline)(?: number| details)?\b|\bemail\b|\bweb ?site\b|"
    r"\b(?:postal )?address\b",
    re.I,
)
_CONTACT = re.compile(
    r"\b0\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b|\b[\w.+-]+@[\w-]+\.[\w.]+\b|\bhttps?://\S+|\bwww\.\S+|"
    r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b"
)
_ELIDED = re.compile(r"\.\.\.|…")
_LEARNING_Q = re.compile(r"\b(?:learn\w*|teach\w*|taught|lessons?|messages?)\b", re.I)
_LIST_Q = re.compile(
    r"\b(?:priorit\w+|what are|which|list|themes|challenges|courses|policies|need to do|areas|steps|actions|"
    r"key points|what was being|recommendations)\b",
    re.I,
)
_COMPARE_Q = re.compile(
    r"\b(?:compare\w*|comparison|both|each (?:partnership|area|document|report)|do they match|differences? between)\b",
    re.I,
)
_DIGIT = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|twenty)\b", re.I
)
_NUMBER = r"\b\d[\d,]*(?:\s?[-–]\s?\d[\d,]*)?|" + _DIGIT.pattern.split("|", 1)[1]
_TIME_UNIT = re.compile(r"\b(?:days?|weeks?|months?|years?|hours?)\b", re.I)
_HOW_MANY_NOUN = re.compile(
    r"\bhow many ([a-z][a-z\s-]{2,40}?)(?:\s+(?:did|does|do|was|were|is|are|has|have|had)\b|[?,]|$)", re.I
)
_YEAR = re.compile(r"\b(20\d\d|19\d\d)(?:\s*[/-]\s*(\d{2,4}))?\b")
_NAME = re.compile(r"\b(?:([A-Z][a-z]+) ([A-Z][a-z]{2,})|Councillor [A-Z][a-z]+|M[rs]s?\.? [A-Z][a-z]+)\b")
_ROLE = re.compile(
    r"\b(?:Independent Chair|Independent Scrutineer|Scrutineer|Chair(?:man|person|woman)?|Director|Head of \w+|"
    r"Manager|Lead|Officer|Councillor|Cabinet Member|Lay Member|Superintendent|Nurse|Consultant)\b"
)
# Capitalised words that begin sentences or name organisations, never people.
_NOT_NAME_WORDS = set(
    """The A An This That These Those Each All Our Their Its In On At Of For From With By To And But Or If When Where
    While Although Since After Before During Between Owner Owners Key Board Boards Council County Children Child
    Safeguarding Partnership Partnerships Committee Review Reviews Rapid Annual Report East West North South
    Local Serious Case Practice Group Panel Service Services Health Police National Independent Chair
    Chairman Executive Director Head Cabinet Member Lead Trust Policy Scrutiny Sub Young People Early Help Learning
    Development Steering Planning Safer Communities Public Adult Adults Safe Home Community Systems Priority""".split()
)
_BULLET = re.compile(r"^\s*(?:[·•▪◦●\-–*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")


@dataclass(frozen=True)
class Unit:
    """A sentence or list item of a retrieved chunk, with absolute offsets into its document."""

    hit: SearchHit
    start: int
    end: int
    text: str
    bullet: bool
    intro: bool  # ends with ':' and leads into a list
    heading: bool = False  # a title line: it introduces an answer but is not one


@dataclass
class Composition:
    answer: str
    abstained: bool
    citations: list[Citation]
    kind: str


class Composer:
    def __init__(
        self,
        idf: Callable[[str], float],
        *,
        threshold: float = 0.3,
        alternatives: Callable[[str], dict[str, set[str]]] | None = None,
        neighbour: Callable[[Chunk], Chunk | None] | None = None,
        home: Callable[[Chunk], bool] | None = None,
        current: Callable[[Chunk], bool] | None = None,
    ) -> None:
        self.idf = idf
        self._weight: Callable[[str], float] = idf
        self.threshold = threshold
        self.alternatives = alternatives or (lambda q: {})
        self.neighbour = neighbour or (lambda c: None)
        self.home = home or (lambda c: False)
        self.current = current or (lambda c: True)
        self._prefer_home = False
        self._alts: dict[str, set[str]] = {}

    # ---- public ----------------------------------------------------------------------------------------------
    def compose(self, question: str, hits: list[SearchHit]) -> Composition:
        """Answer `question` (standalone: follow-ups already rewritten) from `hits`, or abstain."""
        q_terms = list(dict.fromkeys(terms(question)))
        if not hits or not q_terms:
            return self._abstain()
        self._alts = self.alternatives(question)
        self._prefer_home = not places(question)
        self._weight = self.idf
        units = [u for h in hits for u in _units(h)]
        scored = sorted(((self._score(u, q_terms), u) for u in units), key=lambda p: -p[0])
        scored = [(s, u) for s, u in scored if self._admissible(question, u)]
        if scored and _ELIDED.search(scored[0][1].text):
            # The best match is a line its source cut short ("a question ... view the full minutes text"): the
            # knowledge base records the item but not what was said.
            return self._abstain(where=scored[0][1].hit.chunk.title)
        scored = [(s, u) for s, u in scored if not _ELIDED.search(u.text)]
        if not scored:
            return self._abstain()
        fresh = [(s, u) for s, u in scored if self.current(u.hit.chunk)]
        if fresh and self._supported(fresh[0][1], q_terms):
            scored = fresh  # a replaced document answers only when its replacement says nothing on the question
        if self._prefer_home:
            # A question that names no place is about this deployment's own partnership, unless its documents
            # answer clearly worse than another's.
            home = [(s, u) for s, u in scored if self.home(u.hit.chunk)]
            if home and home[0][0] >= 0.8 * scored[0][0]:
                scored = home
        if _COMPARE_Q.search(question):
            lines = self._compare(scored, q_terms)
            if lines:
                return _render(lines, "compare")
        if not self._supported(scored[0][1], q_terms):
            return self._abstain()
        good = [u for _s, u in scored[:8] if self._supported(u, q_terms)]
        if _CONTACT_Q.search(question) and not any(_CONTACT.search(u.text) for u in good[:3]):
            return self._abstain()
        if (
            _NUMERIC_Q.search(question)
            and not _CONTACT_Q.search(question)
            and not any(self._answers_number(question, u) for u in good)
        ):
            return self._abstain()
        if _WHO_Q.search(question) and not any(_names_someone(u.text, question) for u in good[:2]):
            return self._abstain()
        if _PROCEDURE_Q.search(question) and not any(_ACTION.search(u.text) for u in good[:3]):
            return self._abstain()  # the passages name the procedure but do not say what it tells you to do
        if _LEARNING_Q.search(question) or _LIST_Q.search(question):
            lines = self._list(question, hits, q_terms)
            if lines:
                return _render(lines, "list")
        return _render(self._facts(question, scored, q_terms), "fact")

    # ---- scoring ---------------------------------------------------------------------------------------------
    def _coverage(self, unit: Unit, q_terms: list[str]) -> float:
        """Share of the question's idf-weighted terms the unit holds: in its own words (1), as a glossary
        synonym (0.8), or only in its document's title, partnership or section (0.5)."""
        chunk = unit.hit.chunk
        ctx = set(terms(f"{chunk.context} {chunk.partnership}"))
        return coverage(set(terms(unit.text)), ctx, q_terms, self._weight, self._alts)

    def _supported(self, unit: Unit, q_terms: list[str]) -> bool:
        """Enough of the question is in the unit, or the passage is a close semantic match and some of it is."""
        cov = self._coverage(unit, q_terms)
        return cov >= self.threshold or (unit.hit.dense >= 0.5 and cov >= self.threshold / 2)

    def _score(self, unit: Unit, q_terms: list[str]) -> float:
        return self._coverage(unit, q_terms) + 0.1 / unit.hit.rank + 0.1 * max(unit.hit.dense, 0.0)

    def _admissible(self, question: str, unit: Unit) -> bool:
        """A unit from another place than the question names, or from a different period than the question asks
        about, cannot answer it."""
        q_places = places(question)
        chunk = unit.hit.chunk
        if q_places and not place_match(q_places, places(f"{chunk.title} {chunk.partnership}")):
            return False
        q_years = _years(question)
        if not q_years:
            return True
        # The period of the sentence's own line, else of its section and document ("Annual Report 2021/22").
        u_years = _years(_line_of(unit)) or _years(chunk.context)
        return not u_years or {min(q_years), max(q_years)} <= u_years

    def _answers_number(self, question: str, unit: Unit) -> bool:
        if unit.heading or not _DIGIT.search(unit.text):
            return False
        m = _HOW_MANY_NOUN.search(question)
        if m and not _TIME_UNIT.search(m.group(1)):
            # "how many reviews" wants a count of reviews: a number near the word (or a synonym), not a year or
            # a duration ("within fifteen days").
            noun = terms(m.group(1))[-1:]
            wanted = set(noun) | {a for t in noun for a in self._alts.get(t, set())}
            numbers = re.finditer(_NUMBER, unit.text, re.I)
            for n in numbers:
                after = unit.text[n.end() : n.end() + 8].strip()
                if _TIME_UNIT.match(after) or after.startswith("%"):  # a duration or a share is not a count
                    continue
                if re.fullmatch(r"(?:19|20)\d\d", n.group(0)):  # a year is not a count
                    continue
                window = set(terms(unit.text[max(0, n.start() - 40) : n.end() + 40]))
                if not wanted or wanted & window:
                    return True
            return False
        return True

    # ---- shapes ----------------------------------------------------------------------------------------------
    def _facts(self, question: str, scored: list[tuple[float, Unit]], q_terms: list[str]) -> list[Unit]:
        numeric = bool(_NUMERIC_Q.search(question))
        scored = [(s, u) for s, u in scored if not u.heading] or scored  # a title introduces, it does not answer
        pool = [(s, u) for s, u in scored if not numeric or self._answers_number(question, u)] or scored
        best_score, best = pool[0]
        q_set = set(q_terms) | {a for t in q_terms for a in self._alts.get(t, set())}
        # The other sentences of the best one's paragraph, item or table row, when they share the question's
        # words, usually finish its answer ("... form the Planning Group, which meets quarterly. It agrees ...").
        same_line = [u for u in _units(best.hit) if u != best and _line_span(u) == _line_span(best) and not u.heading]
        same_line.sort(key=lambda u: -self._coverage(u, q_terms))
        partners = [u for u in same_line if q_set & set(terms(u.text))][:2]
        chosen = [best, *partners]
        covered = set().union(*(set(terms(u.text)) for u in chosen))
        for s, u in pool[1:12]:
            if len(chosen) >= 4 or s < 0.75 * best_score:
                break
            if u.hit.chunk.doc_id != best.hit.chunk.doc_id:
                continue  # one coherent source; setting sources side by side is what comparisons are for
            new = set(q_terms) & (set(terms(u.text)) - covered)
            if new and not _overlaps(u, chosen):
                chosen.append(u)
                covered |= set(terms(u.text))
        first = {id(u) for u in (best, *partners)}
        chosen.sort(key=lambda u: (id(u) not in first, u.hit.rank, u.start))
        return chosen

    def _list(self, question: str, hits: list[SearchHit], q_terms: list[str]) -> list[Unit]:
        """The list (items with their lead-in) that best matches the question, from the top passages."""
        wanted_reviews = review_names(question)
        best: tuple[float, list[Unit]] | None = None
        for hit in hits[:6]:
            units = _units(hit)
            nxt = self.neighbour(hit.chunk)
            if nxt is not None and units and (units[-1].bullet or units[-1].intro):
                more = _units(SearchHit(chunk=nxt, score=hit.score, rank=hit.rank, dense=hit.dense))
                if more and (more[0].bullet or len(more) > 1 and more[1].bullet):  # the list runs on
                    units += more
            for start, items in _lists(units):
                lead = units[:start]
                lead_text = " ".join(v.text for v in lead[-4:]) + " " + hit.chunk.context
                lead_cov = _share(set(terms(lead_text)), q_terms, self._weight)
                item_cov = _share(set(terms(" ".join(v.text for v in items))), q_terms, self._weight)
                score = lead_cov + 0.3 * item_cov + 0.3 / hit.rank + (0.1 if lead and lead[-1].intro else 0.0)
                first_line = hit.chunk.text.split("\n", 1)[0]
                if wanted_reviews and hit.chunk.kind == "review" and wanted_reviews & review_names(first_line):
                    score += 0.5  # the named review's own block
                heading = _review_heading(hit.chunk, lead)
                if best is None or score > best[0]:
                    best = (score, ([heading] if heading else []) + items[:15])
        if best is None or best[0] < self.threshold:
            return []
        return best[1]

    def _compare(self, scored: list[tuple[float, Unit]], q_terms: list[str]) -> list[Unit]:
        """Up to two sentences from each of the (at most three) documents that best answer the question."""
        per_doc: dict[str, list[Unit]] = {}
        for _s, u in scored:
            units = per_doc.setdefault(u.hit.chunk.doc_id, [])
            if len(units) < 2 and self._coverage(u, q_terms) >= self.threshold * 0.8 and not _overlaps(u, units):
                units.append(u)
        docs = [d for d, us in per_doc.items() if us][:3]
        if len(docs) < 2:
            return []
        return [u for d in docs for u in sorted(per_doc[d], key=lambda u: u.start)]

    def _abstain(self, *, where: str = "") -> Composition:
        if where:
            text = (
                f"The knowledge base only records this in summary (in “{where}”), without what was said, so I "
                "can't answer it. The full minutes or report will have the detail. " + SIGNPOST
            )
        else:
            text = "I can't find an answer to that in the partnership's knowledge base, so I won't guess. " + SIGNPOST
        return Composition(answer=text, abstained=True, citations=[], kind="abstain")


def _lists(units: list[Unit]) -> list[tuple[int, list[Unit]]]:
    """(index of first item, items) for each list in a passage: bullets after a lead-in ending with ':', or a run
    of bullets. Short unbulleted lines between items (e.g. "Lead: ...") do not end a list."""
    out: list[tuple[int, list[Unit]]] = []
    for i, u in enumerate(units):
        starts = u.bullet and (i == 0 or not units[i - 1].bullet or units[i - 1].intro)
        if not starts:
            continue
        marker = _marker(units[i - 1]) if i > 0 and units[i - 1].intro and units[i - 1].bullet else None
        items: list[Unit] = []
        j = i
        while j < len(units):
            v = units[j]
            if v.bullet and marker is not None and _marker(v) == marker:
                break  # a sibling of the lead-in: the sub-list is over
            if v.bullet:
                items.append(v)
            elif not (len(v.text) < 160 and j + 1 < len(units) and units[j + 1].bullet):
                break
            j += 1
        if len(items) >= 2 or (items and i > 0 and units[i - 1].intro):
            out.append((i, items))
    return out


def _marker(unit: Unit) -> str:
    m = _BULLET.match(unit.text)
    return re.sub(r"\d+|[a-z]", "n", m.group(0).strip()) if m else ""


def _review_heading(chunk: Chunk, lead: list[Unit]) -> Unit | None:
    """The line that names what a list is about: a review's title line, or the lead-in before the items."""
    if not lead:
        return None
    if chunk.kind == "review":
        return lead[0]
    return lead[-1]


def _line_span(unit: Unit) -> tuple[str, int]:
    chunk = unit.hit.chunk
    return chunk.doc_id, chunk.start + chunk.text.rfind("\n", 0, unit.start - chunk.start) + 1


def _line_of(unit: Unit) -> str:
    chunk = unit.hit.chunk
    rel = unit.start - chunk.start
    start = chunk.text.rfind("\n", 0, rel) + 1
    end = chunk.text.find("\n", rel)
    return chunk.text[start : len(chunk.text) if end < 0 else end]


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
    """A person's name, or a role that answers the question: when the question names a role ("who chairs"),
    a fuller form of that role ("an Independent Chair"); otherwise any role the question did not name."""
    q_stems = {_role_stem(w) for w in words(question)}
    q_roles = q_stems & _ROLE_WORDS
    text_roles = {_role_stem(w) for r in _ROLE.findall(text) for w in words(r)}
    for m in _NAME.finditer(text):
        first, last = m.group(1), m.group(2)
        if first and (first in _NOT_NAME_WORDS or last in _NOT_NAME_WORDS or places(m.group(0))):
            continue
        if q_roles and not q_roles & text_roles:
            continue  # "who chairs ...?" is not answered by a name given with another role
        if m.group(0).lower() not in question.lower():
            return True
    for role in _ROLE.findall(text):
        stems = {_role_stem(w) for w in words(role)}
        if stems <= q_stems:
            continue  # says no more than the question did
        if not q_roles or q_roles & stems:
            return True
    return False


def _role_stem(word: str) -> str:
    word = re.sub(r"^chair(?:man|person|woman|ing|ed|s)?$", "chair", word.lower())
    return re.sub(r"(?<=[a-z]{3})s$", "", word)


_ROLE_WORDS = {
    "chair",
    "scrutineer",
    "director",
    "manager",
    "lead",
    "officer",
    "councillor",
    "superintendent",
    "nurse",
    "consultant",
    "head",
}


def _units(hit: SearchHit) -> list[Unit]:
    chunk: Chunk = hit.chunk
    out = []
    for s, e in sentence_spans(chunk.text, base=chunk.start):
        text = chunk.text[s - chunk.start : e - chunk.start]
        if len(words(text)) < 2 and not _DIGIT.search(text):
            continue
        bullet = bool(_BULLET.match(text))
        heading = (
            not bullet
            and len(text) < 90
            and not re.search(r"[.:;!?]$", text)
            and (bool(re.match(r"\d+(?:\.\d+)*\.?\s+[A-Z]", text)) or not re.search(r"\d", text))
        )
        out.append(Unit(hit=hit, start=s, end=e, text=text, bullet=bullet, intro=text.endswith(":"), heading=heading))
    return out


def _short_source(chunk: Chunk) -> str:
    """'ASCP' from 'Anyshire Safeguarding Children Partnership (ASCP)', else the partnership or title."""
    m = re.search(r"\(([A-Z]{2,8})\)", chunk.partnership)
    label = m.group(1) if m else chunk.partnership or chunk.title
    year = f" {chunk.year}" if chunk.year else ""
    return f"{label} ({chunk.doc_type.replace('_', ' ')}{year})"


def _render(units: list[Unit], kind: str) -> Composition:
    citer = Citer()
    lines: list[str] = []
    for u in units:
        c = u.hit.chunk
        marker = citer.cite(c, u.start, u.end)
        body = _BULLET.sub("", u.text).strip() if u.bullet else u.text.strip()
        if kind == "compare":
            lines.append(f"- {_short_source(c)}: {body} {marker}")
        elif u.bullet:
            lines.append(f"- {body} {marker}")
        else:
            lines.append(f"{body} {marker}")
    citations = citer.citations
    return Composition(answer="\n".join(lines), abstained=False, citations=citations, kind=kind)
