"""Features of each (question, evidence unit) pair for the fitted answer scorer: meaning (dense similarity of the
question to the unit and to its passage), shared words (idf-weighted coverage with glossary synonyms, a BM25 term
score), retrieval (rank, fused score), answer-type agreement, period agreement, heading and position.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np

from assistant.answer.question import Asks, offers, periods_in, same_period
from assistant.answer.units import GLOSSARY_DOC, Unit
from assistant.evidence import coverage
from core.text import terms

FEATURES = (
    "dense_unit",
    "dense_unit_rel",
    "dense_passage",
    "coverage",
    "coverage_rel",
    "coverage_own",
    "bm25",
    "section_coverage",
    "inv_rank",
    "fused_score",
    "count_and_number",
    "count_no_number",
    "who_and_proper",
    "when_and_date",
    "list_and_item",
    "list_and_intro",
    "definition_and_expansion",
    "definition_and_glossary",
    "glossary",
    "year_agrees",
    "year_differs",
    "who_no_proper",
    "contact_and_details",
    "contact_no_details",
    "heading",
    "bullet",
    "position",
    "log_length",
    "elided",
    "asks_question",
    "home",
    "current",
    "question_covered",
    "rarest_found",
    "unit_has_rarest",
)

_K1, _B, _AVG = 1.2, 0.75, 20.0  # BM25's usual constants; a sentence of about 20 terms is typical


def _bm25(q_terms: list[str], u_terms: list[str], idf: Callable[[str], float]) -> float:
    tf = Counter(u_terms)
    norm = _K1 * (1 - _B + _B * len(u_terms) / _AVG)
    total = sum(idf(t) for t in q_terms) or 1.0
    return sum(idf(t) * tf[t] * (_K1 + 1) / (tf[t] + norm) for t in q_terms if t in tf) / total


def unit_features(
    question: str,
    asks: Asks,
    units: list[Unit],
    dense: np.ndarray,
    idf: Callable[[str], float],
    alternatives: dict[str, set[str]],
    home: np.ndarray,
    current: np.ndarray,
) -> np.ndarray:
    """One row of FEATURES per unit; `dense` holds each unit's cosine similarity to the question, `home` and
    `current` whether its document is the deployment's own partnership's (when the question names no place) and
    not replaced by a newer one."""
    q_terms = list(dict.fromkeys(terms(question)))
    q_periods = periods_in(question)
    rows = []
    covs = []
    for u in units:
        chunk = u.chunk
        u_terms = terms(u.text)
        ctx = set(terms(f"{chunk.context} {chunk.partnership}"))
        covs.append(coverage(set(u_terms), ctx, q_terms, idf, alternatives))
    max_cov = max(covs, default=0.0)
    # Question-level evidence: how much of the question the retrieved text holds anywhere, and whether its most
    # specific term (highest idf: a name, a place, a rare topic) occurs at all. A question whose specific term no
    # passage holds is usually about something the documents do not cover.
    everywhere: set[str] = set()
    for u in units:
        everywhere |= set(terms(f"{u.text} {u.chunk.context} {u.chunk.partnership}"))
    covered = coverage(everywhere, set(), q_terms, idf, alternatives)
    rarest = max(q_terms, key=idf) if q_terms else ""
    rarest_forms = {rarest} | alternatives.get(rarest, set())
    rarest_found = float(bool(rarest_forms & everywhere))
    max_dense = float(dense.max()) if len(dense) else 0.0
    for u, cov, d, h, c in zip(units, covs, dense, home, current, strict=True):
        chunk = u.chunk
        u_terms = terms(u.text)
        off = offers(u.text)
        own = coverage(set(u_terms), set(), q_terms, idf, alternatives)
        sec = coverage(set(terms(chunk.section)), set(), q_terms, idf, alternatives)
        u_periods = periods_in(_line_of(u)) or periods_in(f"{chunk.context} {chunk.title}")
        agrees = bool(q_periods) and all(any(same_period(q, p) for p in u_periods) for q in q_periods)
        differs = (
            bool(q_periods) and bool(u_periods) and not any(same_period(q, p) for q in q_periods for p in u_periods)
        )
        glossary = chunk.doc_id == GLOSSARY_DOC
        rows.append(
            [
                float(d),
                float(d) - max_dense,
                0.0 if glossary else float(u.hit.dense),
                cov,
                cov - max_cov,
                own,
                _bm25(q_terms, u_terms, idf),
                sec,
                0.0 if glossary else 1.0 / u.hit.rank,
                0.0 if glossary else float(u.hit.score),
                float(asks.count and off.number),
                float(asks.count and not off.number),
                float(asks.who and off.proper),
                float(asks.when and off.date),
                float(asks.list and u.bullet),
                float(asks.list and u.intro),
                float(asks.definition and off.expansion),
                float(asks.definition and glossary),
                float(glossary),
                float(agrees),
                float(differs),
                float(asks.who and not asks.procedure and not off.proper),
                float(asks.contact and off.contact),
                float(asks.contact and not off.contact),
                float(u.heading),
                float(u.bullet),
                u.index / max(u.count - 1, 1),
                math.log(1 + len(u.text)),
                float("..." in u.text or "…" in u.text),
                float(u.text.rstrip().endswith("?")),
                float(h),
                float(c),
                covered,
                rarest_found,
                float(bool(rarest_forms & set(u_terms))),
            ]
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(units), len(FEATURES))


def _line_of(unit: Unit) -> str:
    chunk = unit.chunk
    rel = unit.start - chunk.start
    start = chunk.text.rfind("\n", 0, rel) + 1
    end = chunk.text.find("\n", rel)
    return chunk.text[start : len(chunk.text) if end < 0 else end]
