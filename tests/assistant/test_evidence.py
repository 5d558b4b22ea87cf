"""How much of a question a text holds (assistant/evidence.py): idf-weighted, synonyms and context count less."""

from __future__ import annotations

import pytest

from assistant.evidence import best_sentence_coverage, coverage
from core.text import terms


def _flat(_: str) -> float:
    return 1.0


def test_all_terms_in_the_text_is_full_coverage() -> None:
    q = terms("board chair")
    assert coverage(set(terms("The chair of the board")), set(), q, _flat, {}) == 1.0


def test_no_terms_and_no_question_terms_are_zero() -> None:
    assert coverage(set(terms("nothing relevant")), set(), terms("board chair"), _flat, {}) == 0.0
    assert coverage(set(terms("board")), set(), [], _flat, {}) == 0.0


def test_synonym_and_context_count_less_than_the_word_itself() -> None:
    (board,) = terms("board")
    (panel,) = terms("panel")
    q = [board]
    direct = coverage({board}, set(), q, _flat, {})
    synonym = coverage({panel}, set(), q, _flat, {board: {panel}})
    context = coverage(set(), {board}, q, _flat, {})
    assert direct == 1.0 and synonym == pytest.approx(0.8) and context == pytest.approx(0.5)


def test_rare_terms_weigh_more() -> None:
    board, neglect = terms("board neglect")
    weights = {board: 1.0, neglect: 3.0}
    idf = weights.__getitem__
    assert coverage({neglect}, set(), [board, neglect], idf, {}) == pytest.approx(0.75)
    assert coverage({board}, set(), [board, neglect], idf, {}) == pytest.approx(0.25)


def test_best_sentence_is_scored_alone_not_the_whole_passage() -> None:
    q = terms("board chair")
    text = "The board met. The chair resigned."
    # each sentence holds one of the two terms; together they would hold both
    assert best_sentence_coverage(text, "", q, _flat, {}) == pytest.approx(0.5)
    assert best_sentence_coverage(text + "\nThe board chair is new.", "", q, _flat, {}) == 1.0


def test_context_terms_help_every_sentence() -> None:
    q = terms("ESSCP chair")
    assert best_sentence_coverage("The chair resigned.", "ESSCP annual report", q, _flat, {}) == pytest.approx(0.75)
