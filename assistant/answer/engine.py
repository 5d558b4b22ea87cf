"""The answer engine: score every evidence unit of the retrieved passages with the fitted model, abstain when the
best one is unlikely to answer, else answer with the best evidence shaped by what was asked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answer.features import FEATURES, unit_features
from assistant.answer.model import AnswerModel, default_model
from assistant.answer.units import GLOSSARY_DOC, Unit, glossary_units, list_around, split_units
from assistant.citing import Citer
from assistant.query.kinds import Asks, asks
from assistant.query.parse import Query
from assistant.vector_memo import VectorCache
from core.contracts import SIGNPOST
from core.glossary import Glossary
from core.text import terms
from core.types import Chunk, Citation, SearchHit

Embed = Callable[[Sequence[str]], np.ndarray]

MAX_LINES = 4  # sentences in a fact answer (the best and up to three that add to it)
MAX_ITEMS = 15  # items of a list answer
EXTRA_SHARE = 0.7  # a further sentence joins the answer when its probability is at least this share of the best's


@dataclass
class Composition:
    answer: str
    abstained: bool
    citations: list[Citation]
    kind: str


@dataclass
class Candidates:
    """The evidence units for one question, their features and (once scored) probabilities."""

    question: str
    asks: Asks
    units: list[Unit]
    x: np.ndarray


# Sentence vectors of evidence units, so a unit seen in an earlier question is not embedded again.
_CACHE = VectorCache(limit=50_000)


class Composer:
    def __init__(
        self,
        idf: Callable[[str], float],
        *,
        threshold: float | None = None,
        alternatives: Callable[[str], dict[str, set[str]]] | None = None,
        neighbour: Callable[[Chunk], Chunk | None] | None = None,
        home: Callable[[Chunk], bool] | None = None,
        current: Callable[[Chunk], bool] | None = None,
        embed: Embed | None = None,
        glossary: Glossary | None = None,
        model: AnswerModel | None = None,
        embedder_id: str | None = None,
    ) -> None:
        self.idf = idf
        self.alternatives = alternatives or (lambda q: {})
        self.neighbour = neighbour or (lambda c: None)
        self.home = home or (lambda c: False)
        self.current = current or (lambda c: True)
        self.embed = embed
        # Cache key of this embedder: its model id, or (unnamed) the object whose method embeds.
        self.embedder_key = embedder_id or f"object-{id(getattr(embed, '__self__', embed))}"
        self.glossary = glossary
        self.model = (model or default_model()).for_embedder(embedder_id)
        # An explicit threshold (PKA_ABSTAIN_THRESHOLD set by the operator) overrides the fitted one.
        self.threshold = self.model.threshold if threshold is None else threshold

    # ---- public ----------------------------------------------------------------------------------------------
    def compose(self, query: Query | str, hits: list[SearchHit]) -> Composition:
        """Answer `query` (the parsed Query, or a standalone text: follow-ups already rewritten) from `hits`, or
        abstain."""
        return self.decide(self.candidates(query, hits))

    def candidates(self, query: Query | str, hits: list[SearchHit]) -> Candidates:
        """The units and their features; what the question asks for comes from the Query's one parse (a bare
        text is read by the same classifier)."""
        question, a = (query.standalone, query.asks) if isinstance(query, Query) else (query, asks(query))
        units = [u for h in hits for u in split_units(h)] + glossary_units(self.glossary, question)
        if not units or not terms(question):
            return Candidates(question, a, [], np.zeros((0, 0)))
        dense = self._dense(question, units)
        home = np.asarray([self.home(u.chunk) for u in units], dtype=float)
        current = np.asarray([self.current(u.chunk) for u in units], dtype=float)
        x = unit_features(question, a, units, dense, self.idf, self.alternatives(question), home, current)
        return Candidates(question, a, units, x)

    def decide(
        self, cands: Candidates, model: AnswerModel | None = None, threshold: float | None = None
    ) -> Composition:
        model = model or self.model
        threshold = (model.threshold if model is not self.model else self.threshold) if threshold is None else threshold
        if not cands.units:
            return abstain()
        p = model.scores(cands.x)  # a unit about another period, or lacking the contact asked for, scores 0
        current = cands.x[:, FEATURES.index("current")] > 0
        if current.any() and not current.all() and p[current].max() >= threshold:
            # A document the manifest says was replaced answers only when its replacement says nothing on the
            # question (a fact of the domain: the newer procedure or report is the one in force).
            p = np.where(current, p, 0.0)
        order = np.argsort(-p, kind="stable")
        best = cands.units[order[0]]
        if "..." in best.text or "…" in best.text:
            # An ellipsis marks text the source left out ("a question ... view the full minutes"): the knowledge
            # base records the item but not what was said.
            return abstain(where=best.chunk.title)
        if p[order[0]] < threshold:
            return abstain()
        listed = self._list(cands, best)
        if not listed and cands.asks.list and not cands.asks.count:
            # A list is asked for and the best line is not in one: a close runner-up that leads into or belongs to
            # a list gives the answer's shape (the agreed priorities and their lead-in, not a sentence about them).
            for i in order[1 : MAX_LINES * 2]:
                if p[i] < EXTRA_SHARE * p[order[0]]:  # near the best (which cleared the threshold)
                    break
                u = cands.units[i]
                if (u.intro or u.bullet) and (listed := self._list(cands, u)):
                    break
        if listed:
            return render(listed, "list")
        compared = self._compare(cands, p, order, threshold)
        if compared:
            return render(compared, "compare")
        return render(self._facts(cands, p, order, threshold), "fact")

    # ---- shapes ----------------------------------------------------------------------------------------------
    def _list(self, cands: Candidates, best: Unit) -> list[Unit]:
        """The whole list the best unit leads into or belongs to, when the question asks for a list or the unit
        is a lead-in ("The priorities are:")."""
        if not (cands.asks.list or best.intro) or cands.asks.count:
            return []
        units = split_units(best.hit)
        nxt = self.neighbour(best.chunk)
        if nxt is not None and units and (units[-1].bullet or units[-1].intro):
            more = split_units(SearchHit(chunk=nxt, score=best.hit.score, rank=best.hit.rank, dense=best.hit.dense))
            if more and more[0].bullet:  # the list runs on into the next passage
                units += more
        at = next((i for i, u in enumerate(units) if u.start == best.start and u.chunk == best.chunk), None)
        if at is None:
            return []
        found = list_around(units, at)
        items = [u for u in found if u.bullet]
        if len(items) < 2:
            return []
        lead = [u for u in found if not u.bullet]
        if best.chunk.kind == "review" and units[0] not in lead:
            lead = [units[0], *lead]  # a review's title line says whose learning this is
        return lead + items[:MAX_ITEMS]

    def _compare(self, cands: Candidates, p: np.ndarray, order: np.ndarray, threshold: float) -> list[Unit]:
        """For a question setting things side by side, the best line of each source (partnership, or document when
        it names none) that clears the threshold, best first; nothing when only one source answers."""
        if not cands.asks.compare:
            return []
        chosen: dict[str, Unit] = {}
        for i in order:
            if p[i] < threshold or len(chosen) >= MAX_LINES:
                break
            u = cands.units[i]
            if u.chunk.doc_id == GLOSSARY_DOC:
                continue
            chosen.setdefault(u.chunk.partnership or u.chunk.doc_id, u)
        return list(chosen.values()) if len(chosen) >= 2 else []

    def _facts(self, cands: Candidates, p: np.ndarray, order: np.ndarray, threshold: float) -> list[Unit]:
        """The best unit first (the headline figure or statement), then units that come close to it."""
        best_p = p[order[0]]
        chosen = [cands.units[order[0]]]
        for i in order[1:]:
            if len(chosen) >= MAX_LINES or p[i] < max(threshold, EXTRA_SHARE * best_p):
                break
            u = cands.units[i]
            if not _overlaps(u, chosen) and u.text.strip() not in {c.text.strip() for c in chosen}:
                chosen.append(u)
        if chosen[0].heading and len(chosen) == 1:
            follow = [u for u in split_units(chosen[0].hit) if u.index == chosen[0].index + 1]
            chosen += follow  # a title introduces; the line after it says what it introduces
        return chosen

    # ---- helpers ---------------------------------------------------------------------------------------------
    def _dense(self, question: str, units: list[Unit]) -> np.ndarray:
        if self.embed is None:
            return np.asarray([u.hit.dense for u in units], dtype=float)
        vectors = _CACHE.get(self.embedder_key, self.embed, [question] + [u.text for u in units])
        return (vectors[1:] @ vectors[0]).astype(float)


def _overlaps(unit: Unit, chosen: list[Unit]) -> bool:
    return any(u.chunk.doc_id == unit.chunk.doc_id and u.start < unit.end and unit.start < u.end for u in chosen)


def abstain(*, where: str = "") -> Composition:
    if where:
        text = (
            f"The knowledge base only records this in summary (in “{where}”), without what was said, so I "
            "can't answer it. The full minutes or report will have the detail. " + SIGNPOST
        )
    else:
        text = "I can't find an answer to that in the partnership's knowledge base, so I won't guess. " + SIGNPOST
    return Composition(answer=text, abstained=True, citations=[], kind="abstain")


def render(units: list[Unit], kind: str) -> Composition:
    citer = Citer()
    lines: list[str] = []
    for u in units:
        marker = citer.cite(u.chunk, u.start, u.end)
        lines.append(f"- {u.body} {marker}" if u.bullet else f"{u.body} {marker}")
    return Composition(answer="\n".join(lines), abstained=False, citations=citer.citations, kind=kind)
