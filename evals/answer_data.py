"""Training data for the answer scorer: every evidence unit of the passages an item retrieves, labelled 1 when it
overlaps one of the item's gold quotes (from the same document), 0 otherwise.
"""

from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

import numpy as np

from assistant.answer.engine import Candidates
from assistant.answer.model import Dataset
from assistant.answer.units import GLOSSARY_DOC, Unit
from assistant.service import AssistantService
from core.text import normalise
from evals.metrics import keyword_recall


def overlaps_quote(unit_text: str, quote: str) -> bool:
    """The unit is part of the quote, holds it, or shares a run of half the shorter of the two."""
    u, q = normalise(unit_text), normalise(quote)
    if len(u) < 12 or not q:
        return False
    if u in q or q in u:
        return True
    m = SequenceMatcher(None, u, q, autojunk=False).find_longest_match(0, len(u), 0, len(q))
    return m.size >= max(20, 0.5 * min(len(u), len(q)))


def label(unit: Unit, item: dict[str, Any]) -> int:
    if unit.chunk.doc_id == GLOSSARY_DOC:
        # The glossary answers a definition question when it holds every keyword of the ideal answer.
        return int(
            item.get("type") == "definition" and keyword_recall(item.get("answer_keywords") or [], unit.text) == 1
        )
    quotes = item.get("gold_quotes") or []
    sources = item.get("gold_quote_sources") or [item.get("source")] * len(quotes)
    for q, src in zip(quotes, sources, strict=False):
        if src and not (unit.chunk.doc_id == src or unit.chunk.doc_id.endswith("/" + str(src))):
            continue
        if overlaps_quote(unit.text, q):
            return 1
    return 0


def candidates_for(service: AssistantService, item: dict[str, Any]) -> Candidates:
    """The units the answer step scores for an item, retrieved as /ask retrieves them: the one parsed Query, searched
    within the scope of the places it names (all documents when it names only places the store lacks: /ask then
    says so without composing, and the units still teach the scorer)."""
    query = service.parse(item["question"], item.get("history") or [], urgent=False)
    scope = service.places().resolve(query)
    doc_ids = scope.doc_ids if scope.doc_ids else None
    hits = service.retriever.search(query, top_k=service.settings.answer_passages, doc_ids=doc_ids)
    return service.composer().candidates(query, hits)


def dataset(cands: list[Candidates], items: list[dict[str, Any]]) -> Dataset:
    xs, ys, gs = [], [], []
    answerable = {}
    for g, (c, item) in enumerate(zip(cands, items, strict=True)):
        answerable[g] = item["type"] != "unanswerable"
        if not c.units:
            continue
        xs.append(c.x)
        ys.append(np.asarray([label(u, item) for u in c.units], dtype=int))
        gs.append(np.full(len(c.units), g))
    if not xs:
        return Dataset.concat([])
    return Dataset(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), answerable)
