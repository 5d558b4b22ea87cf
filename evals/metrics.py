"""Pure metric functions for the eval: quote matching, keyword recall, ranks, percentiles."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Literal

import numpy as np

from core.text import NUMBER_WORDS, normalise


def _norm_numbers(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", normalise(text))
    return re.sub(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", lambda m: NUMBER_WORDS[m.group(1)], text)


def quote_in(quote: str, passage: str, *, min_share: float = 0.6) -> bool:
    """True if the passage holds the quote, or (a quote across a chunk boundary) a run of at least
    `min_share` of it."""
    q, p = normalise(quote), normalise(passage)
    if not q:
        return False
    if q in p:
        return True
    m = SequenceMatcher(None, q, p, autojunk=False).find_longest_match(0, len(q), 0, len(p))
    return m.size >= max(25, min_share * len(q)) or (m.size >= 25 and m.size == len(p))


def first_hit_rank(gold_quotes: list[str], passages: list[str]) -> int | None:
    for rank, passage in enumerate(passages, start=1):
        if any(quote_in(q, passage) for q in gold_quotes):
            return rank
    return None


def keyword_recall(keywords: list[str], answer: str) -> float:
    """Share of keywords found in the answer; `a|b` accepts either form; number words and digits are one."""
    if not keywords:
        return 1.0
    text = _norm_numbers(answer)
    found = 0
    for kw in keywords:
        forms = [_norm_numbers(f) for f in kw.split("|")]
        if any(f and f in text for f in forms):
            found += 1
    return found / len(keywords)


def percentile(values: list[float], pct: float, *, method: Literal["linear", "inverted_cdf"] = "linear") -> float:
    """numpy.percentile (its `method`: "linear" interpolates, "inverted_cdf" is the nearest rank); 0.0 for none."""
    return float(np.percentile(values, pct, method=method)) if values else 0.0


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
