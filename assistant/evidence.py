"""How much of a question a piece of text holds: the shared measure behind reranking, answer sentence choice
and abstention.
"""

from __future__ import annotations

from collections.abc import Callable

from core.text import sentence_spans, terms

Idf = Callable[[str], float]


def coverage(
    text_terms: set[str],
    context_terms: set[str],
    q_terms: list[str],
    idf: Idf,
    alternatives: dict[str, set[str]],
) -> float:
    """Share of the question's idf-weighted terms found in the text (1), as a glossary synonym (0.8), or only in
    the passage's context — document title, partnership, section — (0.5)."""
    total = got = 0.0
    for t in q_terms:
        w = idf(t)
        total += w
        alts = alternatives.get(t, set())
        if t in text_terms:
            got += w
        elif alts & text_terms:
            got += 0.8 * w
        elif t in context_terms or alts & context_terms:
            got += 0.5 * w
    return got / total if total else 0.0


def best_sentence_coverage(
    text: str, context: str, q_terms: list[str], idf: Idf, alternatives: dict[str, set[str]]
) -> float:
    """The coverage of the passage's best sentence or list item."""
    ctx = set(terms(context))
    best = 0.0
    for s, e in sentence_spans(text):
        best = max(best, coverage(set(terms(text[s:e])), ctx, q_terms, idf, alternatives))
    return best
