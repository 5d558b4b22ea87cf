"""The retrieval signals of each candidate passage, and a fitted reranker over the top candidates of the fused
ranking: a linear score of standardised features whose weights come from a logistic regression on eval questions
(label: the passage holds a gold quote), shipped as `rerank_model.json` and refitted by `pka train-rerank`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.evidence import best_sentence_coverage, sentence_spans
from assistant.query import Query
from assistant.query.identifiers import MINUTE_NO, review_names
from assistant.query.kinds import Asks, asks
from assistant.retrieval.index import _abbreviation_terms, _Index, _norm
from assistant.retrieval.places import place_match, places
from assistant.vector_memo import VectorCache
from core.embeddings import Embedder
from core.text import terms

MODEL_PATH = Path(__file__).with_name("rerank_model.json")

# The hand-set boost of each identifier component, in units of one exact identifier match (what fusion adds).
BOOST_WEIGHTS = {
    "review": 1.5,
    "minute": 1.0,
    "abbrev": 0.3,
    "place_match": 0.8,
    "place_mismatch": -0.8,
    "home": 0.5,
}

FEATURES = (
    "dense",  # normalised dense similarity (median allowed chunk 0, best 1)
    "cosine",  # the raw cosine similarity
    "bm25_q",  # normalised BM25 of the question's own terms
    "bm25_x",  # normalised BM25 of the glossary expansion's other terms
    *BOOST_WEIGHTS,  # each identifier component separately
    "coverage",  # idf-weighted coverage of the question by the passage's best sentence
    "sentence",  # dense similarity of the query to the passage's closest sentence
    "heading",  # idf-weighted share of the question's terms in the section path
    "title",  # idf-weighted share of the question's terms in the document title
    "length",  # log of the passage length in characters
    "count_number",  # a count question and how many figures the passage gives (log)
    "when_date",  # a when question and the passage gives a year, month or date
    "list_items",  # a list question and the passage is a list (how many items, log)
    "rank",  # 1 / fused rank
    "fused",  # the hand-set fused score
)
# What the shipped model is fitted on. The fused score is left out, so each identifier counts through its own
# weight (with it, the fit gave the fused score a negative weight, which would demote an identifier match the
# training questions never show, such as a minute number). The closest-sentence similarity is left out too: it
# adds +0.02 hit@5 on the seeds under CV, but embedding the sentences of 50 candidates per query took search p95
# from 37 ms to 1.2 s on the seeds (evals/results/retrieval.md); a model that lists it still gets it computed.
FITTED = tuple(f for f in FEATURES if f not in ("fused", "sentence"))


def boost_components(parsed: str | Query, index: _Index, home: Callable[[Any], bool] | None) -> dict[str, np.ndarray]:
    """Each identifier signal per chunk (0/1, or a count for minute numbers and abbreviations): the review the
    question names, minute numbers, abbreviations, the place it names (match or mismatch), and the home
    partnership when it names no place (`home` says whether a chunk is home's; None when no home is set)."""
    query = parsed.standalone if isinstance(parsed, Query) else parsed
    wanted_reviews = parsed.reviews if isinstance(parsed, Query) else review_names(query)
    numbers = parsed.numbers if isinstance(parsed, Query) else tuple(dict.fromkeys(MINUTE_NO.findall(query)))
    n = len(index.chunks)
    out = {name: np.zeros(n, dtype=np.float32) for name in BOOST_WEIGHTS}
    named = [index.review_postings[r] for r in wanted_reviews if r in index.review_postings]
    if named:
        out["review"][np.unique(np.concatenate(named))] = 1.0  # naming several wanted reviews counts once
    for number in numbers:
        hit = index.number_postings.get(number)
        if hit is not None:
            out["minute"][hit] += 1.0
    if index.bm25 is not None:
        # An abbreviation counts where it, or its plural, is one of the chunk's index terms ("GP", "GPs").
        for forms in _abbreviation_terms(query):
            out["abbrev"][np.asarray(index.bm25.get_scores(forms)) > 0] += 1.0
    wanted_places = places(query)
    names_place = bool(parsed.places) if isinstance(parsed, Query) else bool(wanted_places)
    if wanted_places:
        match = np.array([place_match(wanted_places, have) for have in index.group_places], dtype=np.float32)
        other = np.array([bool(have) and not m for have, m in zip(index.group_places, match, strict=True)])
        out["place_match"] = match[index.place_groups]
        out["place_mismatch"] = other.astype(np.float32)[index.place_groups]
    elif home is not None and not names_place:
        flags = np.array([home(c) for c in index.group_heads] + [False], dtype=bool)
        out["home"] = flags[index.groups].astype(np.float32)
    return out


def hand_set_boost(components: dict[str, np.ndarray]) -> np.ndarray:
    """The boosts as fusion has always added them: the hand-set weight of each component."""
    total = np.zeros_like(next(iter(components.values())))
    for name, w in BOOST_WEIGHTS.items():
        total += w * components[name]
    return total


@dataclass
class Signals:
    """What fusion computed for one query over every chunk, kept for the candidates' features. The normalised
    scores are computed when first read: a search without the fitted reranker reads only `dense` (weighted
    fusion), so it pays for no other normalisation."""

    cosine: np.ndarray
    bm25_own: np.ndarray  # BM25 of the question's own terms
    bm25_more: np.ndarray | None  # of the glossary expansion's other terms; None when it adds none
    allowed: np.ndarray  # the chunks the filters and scope allow (what the normalisation counts)
    boosts: dict[str, np.ndarray]
    fused: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    @cached_property
    def dense(self) -> np.ndarray:
        return _norm(self.cosine, self.allowed)

    @cached_property
    def bm25_q(self) -> np.ndarray:
        return _norm(self.bm25_own, self.allowed)

    @cached_property
    def bm25_x(self) -> np.ndarray:
        more = self.bm25_more
        return _norm(more, self.allowed) if more is not None else np.zeros_like(self.bm25_own)


class SentenceVectors(VectorCache):
    """Vectors of passage sentences by embedder and text, kept between queries (bounded: cleared when full)."""

    def best(self, embedder: Embedder, vector: np.ndarray, texts: list[str]) -> list[float]:
        """Per passage, the similarity of `vector` to its closest sentence or list item."""
        key = str(getattr(embedder, "model_id", type(embedder).__name__))
        spans = [[t[s:e] for s, e in sentence_spans(t)] or [t] for t in texts]
        sims = self.get(key, embedder.embed_documents, [s for ss in spans for s in ss]) @ vector
        out, start = [], 0
        for ss in spans:
            out.append(float(sims[start : start + len(ss)].max()))
            start += len(ss)
        return out


SENTENCES = SentenceVectors(limit=60_000)


_FIGURE = re.compile(r"(?<![\w.])\d[\d,.]*%?")
_DATE = re.compile(
    r"\b(?:19|20)\d{2}\b|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b",
    re.I,
)
_ITEM = re.compile(r"^\s*(?:[·•\-*–]|\(?[0-9a-z]{1,2}[.)])\s+", re.M)


def _shape(a: Asks, text: str, kind: str) -> tuple[float, float, float]:
    """How well the passage's shape fits what the question asks for: figures, dates, list items."""
    figures = math.log1p(len(_FIGURE.findall(text))) if a.count else 0.0
    dated = float(bool(_DATE.search(text))) if a.when else 0.0
    items = len(_ITEM.findall(text)) + (1 if kind == "list" else 0)
    return figures, dated, math.log1p(items) if a.list else 0.0


def _share(have: set[str], q_terms: list[str], idf: Callable[[str], float]) -> float:
    total = sum(idf(t) for t in q_terms)
    return sum(idf(t) for t in q_terms if t in have) / total if total > 0 else 0.0


def candidate_features(
    index: _Index,
    order: np.ndarray,
    signals: Signals,
    q_terms: list[str],
    idf: Callable[[str], float],
    alternatives: dict[str, set[str]],
    sentence: list[float] | None = None,
    parsed: str | Query = "",
) -> np.ndarray:
    """The feature matrix (len(order) x len(FEATURES)) of the candidates, in `order` (the fused ranking);
    `sentence`: each candidate's closest-sentence similarity (SentenceVectors.best), 0 when not given; `parsed`:
    the question (what it asks for)."""
    wants = parsed.asks if isinstance(parsed, Query) else asks(parsed)
    rows = np.empty((len(order), len(FEATURES)), dtype=np.float64)
    for r, i in enumerate(order.tolist()):
        c = index.chunks[i]
        cov = best_sentence_coverage(c.text, f"{c.context} {c.partnership}", q_terms, idf, alternatives)
        rows[r] = (
            signals.dense[i],
            signals.cosine[i],
            signals.bm25_q[i],
            signals.bm25_x[i],
            *(signals.boosts[name][i] for name in BOOST_WEIGHTS),
            cov,
            sentence[r] if sentence is not None else 0.0,
            _share(set(terms(c.section)), q_terms, idf),
            _share(set(terms(c.title)), q_terms, idf),
            math.log1p(len(c.text)),
            *_shape(wants, c.text, c.kind),
            1.0 / (r + 1),
            signals.fused[i],
        )
    return rows


@dataclass
class Reranker:
    """A linear score over standardised features: score = sum(w * (x - mean) / scale) + bias."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float = 0.0
    depth: int = 50
    info: dict[str, Any] = field(default_factory=dict)

    def score(self, x: np.ndarray) -> np.ndarray:
        cols = [FEATURES.index(f) for f in self.features]
        z = (x[:, cols] - self.mean) / self.scale
        return np.asarray(z @ self.weights + self.bias, dtype=np.float64)

    def order(self, x: np.ndarray) -> np.ndarray:
        """Positions of the candidates, best first (ties keep the fused order)."""
        return np.argsort(-self.score(x), kind="stable")

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": list(self.features),
                "mean": [round(float(v), 6) for v in self.mean],
                "scale": [round(float(v), 6) for v in self.scale],
                "weights": [round(float(v), 6) for v in self.weights],
                "bias": round(float(self.bias), 6),
                "depth": self.depth,
                "info": self.info,
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Reranker:
        d = json.loads(text)
        unknown = [f for f in d["features"] if f not in FEATURES]
        if unknown:
            raise ValueError(f"rerank model uses unknown features {unknown}")
        return cls(
            features=tuple(d["features"]),
            mean=np.asarray(d["mean"], dtype=np.float64),
            scale=np.asarray(d["scale"], dtype=np.float64),
            weights=np.asarray(d["weights"], dtype=np.float64),
            bias=float(d.get("bias", 0.0)),
            depth=int(d.get("depth", 50)),
            info=dict(d.get("info") or {}),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> Reranker | None:
        """The shipped model (or the one at `path`); None when there is none."""
        path = path or MODEL_PATH
        return cls.from_json(path.read_text(encoding="utf-8")) if path.exists() else None


def _pairs(z: np.ndarray, y: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per question, every (gold - other) feature difference, each weighted 1/pairs so questions count alike."""
    diffs, weights = [], []
    for qi in np.unique(q):
        rows = np.flatnonzero(q == qi)
        pos, neg = rows[y[rows]], rows[~y[rows]]
        if len(pos) and len(neg):
            d = (z[pos][:, None, :] - z[neg][None, :, :]).reshape(-1, z.shape[1])
            diffs.append(d)
            weights.append(np.full(len(d), 1.0 / len(d)))
    if not diffs:
        raise ValueError("no question has both a gold and another candidate")
    return np.vstack(diffs), np.concatenate(weights)


def _unseen_as_hand_set(
    weights: np.ndarray, sub: np.ndarray, features: tuple[str, ...], scale: np.ndarray
) -> np.ndarray:
    """An identifier component the training candidates never show (no minute-number question, say) has no fitted
    weight; it gets the fitted weight of the review-name match (the exact identifier the questions do show) in
    the ratio of their hand-set weights (a minute number 1.0 to a review name 1.5), never below 0."""
    if "review" not in features or not sub[:, features.index("review")].any():
        return weights
    r = features.index("review")
    per_unit = max(0.0, weights[r] / scale[r]) / BOOST_WEIGHTS["review"]
    for name, hand in BOOST_WEIGHTS.items():
        if name in features and not sub[:, features.index(name)].any():
            weights[features.index(name)] = per_unit * hand * scale[features.index(name)]
    return weights


def fit(
    x: np.ndarray,
    y: np.ndarray,
    q: np.ndarray | None = None,
    *,
    features: tuple[str, ...] = FITTED,
    c: float = 0.1,
    depth: int = 50,
    objective: str = "pairwise",
) -> Reranker:
    """Fit the weights on candidates `x` with labels `y` ("holds a gold quote") of questions `q`: a pairwise
    logistic regression (a gold candidate above another of its question; each question weighs the same), or
    `objective="pointwise"`, a logistic regression of the label itself (balanced classes)."""
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype=bool)
    cols = [FEATURES.index(f) for f in features]
    sub = x[:, cols]
    mean = sub.mean(axis=0)
    scale = sub.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (sub - mean) / scale
    if objective == "pointwise" or q is None:
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(z, y)
        weights, bias = model.coef_[0], float(model.intercept_[0])
    else:
        d, w = _pairs(z, y, q)
        n_q = len(np.unique(q))
        model = LogisticRegression(C=c, fit_intercept=False, max_iter=3000)
        model.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))], sample_weight=np.r_[w, w] * n_q)
        weights, bias = model.coef_[0], 0.0
    weights = _unseen_as_hand_set(np.array(weights, dtype=np.float64), sub, features, scale)
    return Reranker(
        features=tuple(features),
        mean=mean,
        scale=scale,
        weights=np.asarray(weights, dtype=np.float64),
        bias=bias,
        depth=depth,
        info={"objective": objective, "C": c},
    )
