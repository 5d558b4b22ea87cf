"""The offline retrieval CV: ranks under a model (supersedes demotion applied), figures, and folds that fit on
the other folds of every set and rank each held-out question."""

from __future__ import annotations

import numpy as np

from assistant.retrieval.rerank import FEATURES, Reranker
from evals.retrieval_cv import crossval, figures, holds, ranks


def _set(n_questions: int = 30, per: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Each question's gold candidate has the highest coverage but sits low in the fused order."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_questions * per, len(FEATURES)))
    y = np.zeros(n_questions * per, dtype=bool)
    for qi in range(n_questions):
        gold = qi * per + per - 1 - qi % 3
        y[gold] = True
        x[gold, FEATURES.index("coverage")] += 4.0
    return {
        "x": x,
        "y": y,
        "q": np.repeat(np.arange(n_questions), per).astype(np.int32),
        "demoted": np.zeros(len(y), dtype=bool),
        "base_rank": np.zeros(n_questions, dtype=np.int32),  # today's search found none in its top 10
        "answerable": np.ones(n_questions, dtype=bool),
        "ids": np.asarray([f"q{i}" for i in range(n_questions)]),
        "set": np.asarray(["train"] * n_questions),
    }


def test_ranks_follow_the_model_and_put_demoted_passages_last() -> None:
    d = _set()
    coverage = Reranker(features=("coverage",), mean=np.zeros(1), scale=np.ones(1), weights=np.ones(1))
    assert (ranks(coverage, d, np.arange(30)) == 1).all()
    assert (ranks(None, d, np.arange(30)) == 0).all()  # today's rank, as saved
    d["demoted"] = d["y"].copy()  # the gold passage's document is replaced by another candidate's
    assert (ranks(coverage, d, np.arange(30)) == 10).all()
    assert figures(np.array([1, 2, 0, 6])) == (0.5, (1 + 0.5 + 1 / 6) / 4)


def test_crossval_ranks_every_held_out_question_with_a_model_fitted_on_the_others() -> None:
    sets = {"a": _set(seed=1), "b": _set(20, seed=2)}
    cv = crossval(sets, c=1.0)
    assert set(cv) == {"a", "b"} and len(cv["a"]) == 30 and len(cv["b"]) == 20
    assert figures(cv["a"])[0] > 0.9 and figures(cv["b"])[0] > 0.9  # the coverage signal is learnt


def test_holds_agrees_with_quote_in() -> None:
    quote = "Learning from the audits is shared at the ESSP Steering Group"
    assert holds([quote], f"Intro. {quote} and beyond.")
    assert holds([quote], "learning from the audits is shared at the essp steering group")
    assert not holds([quote], "Nothing about it here at all, only other words and more of them.")
    assert not holds(["short"], "a passage without the word")
