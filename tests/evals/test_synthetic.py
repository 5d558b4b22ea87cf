"""Synthetic distractor documents (evals/synthetic.py): deterministic, structured, and free of the real
partnerships' names, places and people."""

from __future__ import annotations

import re

import pytest

from evals.synthetic import PLACES, generate

SOURCE = [
    "The East Sussex Safeguarding Children Partnership (ESSCP) met 12 times in 2023 to review Child Z.\n"
    "Laura Gough chaired the board and 1,250 practitioners attended training on neglect during the year.\n"
    "The Rotherham partnership published a learning briefing about Family CC and the voice of the child.\n"
    "Short line.",
]


def test_the_same_seed_gives_the_same_documents_and_another_seed_does_not() -> None:
    a = list(generate(SOURCE, n_docs=3, seed=1))
    assert a == list(generate(SOURCE, n_docs=3, seed=1))
    assert a != list(generate(SOURCE, n_docs=3, seed=2))


@pytest.mark.parametrize("mode", ["markov", "recycle"])
def test_documents_name_another_partnership_and_none_of_the_real_ones(mode: str) -> None:
    docs = list(generate(SOURCE, n_docs=len(PLACES) + 2, seed=3, mode=mode))
    assert len({d.name for d in docs}) == len(docs)
    for i, doc in enumerate(docs):
        place = PLACES[i % len(PLACES)]
        assert doc.text.startswith(f"# {place}") and "Safeguarding Children Partnership" in doc.text.split("\n")[0]
        for real in ("East Sussex", "Rotherham", "ESSCP", "Laura Gough", "Child Z"):
            assert real not in doc.text, (real, doc.name)
    assert docs[len(PLACES)].text.startswith(f"# {PLACES[0]} 2 ")  # places repeat with a number


def test_documents_have_numbered_sections_and_items() -> None:
    (doc,) = generate(SOURCE, n_docs=1, seed=5, sections=3)
    headings = re.findall(r"^(\d+)\. ", doc.text, re.M)
    assert headings == ["1", "2", "3"]
    assert re.search(r"^1\.1 \S", doc.text, re.M) and re.search(r"^3\.1 \S", doc.text, re.M)


def test_recycled_sentences_keep_their_shape_with_figures_changed() -> None:
    (doc,) = generate(SOURCE, n_docs=1, seed=11, mode="recycle")
    recycled = re.findall(r"(\S+) (\S+) chaired the board and ([\d,]+) practitioners attended training", doc.text)
    assert recycled, doc.text
    assert all(f"{first} {last}" != "Laura Gough" and n != "1,250" for first, last, n in recycled)


def test_no_usable_source_sentence_is_an_error() -> None:
    with pytest.raises(ValueError, match="no source sentences"):
        list(generate(["Too short."], n_docs=1))
