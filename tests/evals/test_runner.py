"""The eval runner (evals/runner.py) with a stand-in service: loading a set, scoring one item, the summary per
type, side-by-side runs and the markdown report."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from evals.runner import load_set, run_eval, run_item, run_side_by_side, summarise, to_markdown

GOLD = "The board meets four times a year."


class FakeService:
    """Answers every question with fixed passages; abstains on questions containing 'unknown'."""

    def __init__(self, generator: object | None = None) -> None:
        self.generator = generator
        self.retriever = SimpleNamespace(refresh=lambda: None)
        self.settings = SimpleNamespace(llm_base_url="http://127.0.0.1:1", llm_model="m")
        self.asked: list[tuple[str, object]] = []

    def search(self, question: str, *, top_k: int, history: list[Any] | None = None) -> list[Any]:
        texts = ["Unrelated text about training.", f"Governance. {GOLD} It is chaired independently."]
        return [SimpleNamespace(chunk=SimpleNamespace(text=t, doc_id="d", ordinal=i)) for i, t in enumerate(texts)]

    def ask(self, question: str, *, history: list[Any] | None = None) -> Any:
        self.asked.append((question, self.generator))
        unknown = "unknown" in question
        return SimpleNamespace(
            standalone_question=question,
            abstained=unknown,
            answer="" if unknown else f"{GOLD} [1]",
            citations=[] if unknown else [SimpleNamespace(text=GOLD)],
            mode="generative" if self.generator and not unknown else "extractive",
            fallback_reason="" if self.generator and not unknown else "no_llm",
        )


ITEMS = [
    {
        "id": "q1",
        "question": "How often does the board meet?",
        "type": "fact",
        "gold_quotes": [GOLD],
        "answer_keywords": ["four", "year", "monthly"],
    },
    {"id": "q2", "question": "What is the unknown thing?", "type": "unanswerable"},
]


def test_load_set_skips_blank_lines_and_names_the_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "set.jsonl"
    good.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n\n")
    assert [i["id"] for i in load_set(good)] == ["q1", "q2"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ITEMS[0]) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not valid JSON"):
        load_set(bad)
    missing = tmp_path / "missing.jsonl"
    missing.write_text(json.dumps({"id": "x", "question": "?"}) + "\n")
    with pytest.raises(ValueError, match=r"missing.jsonl:1: missing field 'type'"):
        load_set(missing)


def test_run_item_scores_rank_keywords_and_citations() -> None:
    row = run_item(FakeService(), ITEMS[0])
    assert row["rank"] == 2  # the gold quote is in the second passage
    assert row["keyword_recall"] == pytest.approx(2 / 3)
    assert row["cited_support"] is True and row["citation_hits"] == [True]
    assert row["answerable"] and not row["abstained"]
    assert row["top_chunks"] == ["d#0", "d#1"]
    unanswerable = run_item(FakeService(), ITEMS[1])
    assert unanswerable["abstained"] and unanswerable["rank"] is None and unanswerable["cited_support"] is None


def test_summary_per_type_and_overall() -> None:
    rows = [run_item(FakeService(), i) for i in ITEMS]
    s = summarise(rows)
    o = s["overall"]
    assert (o["n"], o["answerable"], o["unanswerable"], o["with_gold"]) == (2, 1, 1, 1)
    assert (o["hit@1"], o["hit@5"], o["mrr@10"]) == (0.0, 1.0, 0.5)
    assert o["abstained_unanswerable"] == 1.0 and o["citation_precision"] == 1.0
    assert set(s["by_type"]) == {"fact", "unanswerable"}
    assert "hit@5" not in s["by_type"]["unanswerable"]


def test_side_by_side_runs_extractive_first_then_the_model() -> None:
    service = FakeService(generator=object())
    report = run_side_by_side(service, ITEMS)
    model = service.generator
    assert [g for _, g in service.asked] == [None, None, model, model]  # extractive first, without the model
    assert model is not None  # and the model is put back
    g = report["generative"]
    assert g["summary"]["overall"]["generative_share"] == 0.5
    assert g["summary"]["fallbacks"] == {"no_llm": 1}
    assert {r["mode"] for r in report["rows"]} == {"extractive"}


def test_side_by_side_without_a_model_is_one_run() -> None:
    report = run_side_by_side(FakeService(), ITEMS)
    assert "generative" not in report and len(report["rows"]) == 2


def test_markdown_compares_with_a_baseline_and_lists_misses() -> None:
    report = run_eval(FakeService(), ITEMS)
    baseline = json.loads(json.dumps(report))
    baseline["summary"]["overall"]["hit@5"] = 0.5
    md = to_markdown(report, baseline=baseline, title="Dev")
    assert md.startswith("# Dev\n")
    assert "| hit@5 | 0.50 | 1.00 | +0.50 |" in md
    # q1 misses a keyword, so it is listed; q2 abstained as it should, so it is not
    assert "- q1 (fact): rank 2" in md and "- q2" not in md


def test_percentile_interpolates_and_is_zero_for_no_values() -> None:
    from evals.metrics import percentile

    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([10.0, 0.0], 95) == pytest.approx(9.5)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50, method="inverted_cdf") == 2.0
    assert percentile([], 95) == 0.0
