"""The fitted retrieval reranker: its weight file round-trips, it scores and orders candidates, the shipped one
loads, and a retriever with it ranks the candidates of its fused ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval.rerank import FEATURES, MODEL_PATH, Reranker, fit
from tests.assistant.test_retrieval_index import _retriever, seeded  # noqa: F401 - the fixture


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """40 questions of 10 candidates; the gold ones have high coverage and dense similarity."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(400, len(FEATURES)))
    y = x[:, FEATURES.index("coverage")] + 0.5 * x[:, FEATURES.index("dense")] + rng.normal(0, 0.3, 400) > 0.8
    return x, y, np.repeat(np.arange(40), 10)


def test_a_fitted_weight_file_round_trips(tmp_path: Path) -> None:
    x, y, q = _data()
    model = fit(x, y, q, features=("dense", "coverage", "rank"), depth=40)
    model.info["trained_on"] = ["synthetic"]
    path = tmp_path / "rerank.json"
    path.write_text(model.to_json())
    again = Reranker.load(path)
    assert again is not None
    assert again.features == ("dense", "coverage", "rank") and again.depth == 40
    assert again.info["trained_on"] == ["synthetic"]
    assert np.allclose(again.score(x), model.score(x), atol=1e-4)
    assert Reranker.load(tmp_path / "missing.json") is None


@pytest.mark.parametrize("objective", ["pairwise", "pointwise"])
def test_the_reranker_scores_and_orders_candidates(objective: str) -> None:
    x, y, q = _data()
    model = fit(x, y, q, objective=objective)
    assert model.weights[model.features.index("coverage")] > 0  # the signal the labels follow
    top = model.order(x)[:40]
    assert y[top].mean() > 2 * y.mean()  # the positives come first
    weak, strong = np.zeros((1, len(FEATURES))), np.zeros((1, len(FEATURES)))
    strong[0, FEATURES.index("coverage")] = 3.0
    assert model.order(np.vstack([weak, strong])).tolist() == [1, 0]


def test_the_shipped_model_loads_and_uses_known_features() -> None:
    if not MODEL_PATH.exists():
        return  # the hand-set ranking ships
    model = Reranker.load()
    assert model is not None
    assert set(model.features) <= set(FEATURES) and len(model.weights) == len(model.features)
    assert model.score(np.zeros((3, len(FEATURES)))).shape == (3,)


def test_a_retriever_with_a_reranker_orders_its_fused_candidates(seeded) -> None:  # noqa: F811 - the fixture
    query = "What did the Child Q review teach?"
    unranked = _retriever(*seeded, rerank_weight=0.0)  # the fused order, no coverage rerank
    fused_top = [h.chunk.chunk_id for h in unranked.search(query, top_k=30)]
    one = {"mean": np.zeros(1), "scale": np.ones(1), "weights": np.ones(1), "depth": 30}
    # weights on the fused score alone reproduce the fused order
    ranked = _retriever(*seeded, reranker=Reranker(features=("fused",), **one), rerank_weight=0.0)
    assert [h.chunk.chunk_id for h in ranked.search(query, top_k=10)] == fused_top[:10]
    # weights on the passage length put the longest of the fused candidates first
    hits = _retriever(*seeded, reranker=Reranker(features=("length",), **one)).search(query, top_k=5)
    assert len(hits) == 5
    assert {h.chunk.chunk_id for h in hits} <= set(fused_top)
    lengths = [len(h.chunk.text) for h in hits]
    assert lengths == sorted(lengths, reverse=True)


def test_an_identifier_no_training_question_shows_still_lifts_a_match() -> None:
    x, y, q = _data()
    x[:, FEATURES.index("minute")] = 0.0  # no question names a minute number
    review = FEATURES.index("review")
    x[:, review] = (y & (np.arange(len(y)) % 3 == 0)).astype(float)  # a review-name match goes with gold
    model = fit(x, y, q)
    weight = dict(zip(model.features, model.weights / model.scale, strict=True))
    assert weight["review"] > 0
    assert weight["minute"] == pytest.approx(weight["review"] / 1.5)
