"""The review index (assistant/reviews.py) on hand-made chunks: names, types, key learning with exact offsets,
themes, and what is not a review."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.reviews import Theme, build_index, label, load_themes, theme_counts
from core.errors import BadInput
from core.types import Chunk

LEAD = "The board signed off the following LCSPRs:\n"
BLOCK = (
    "Child Q was a baby known to health visiting.\n"
    "Key learning:\n"
    "· Professional curiosity about fathers and other men in the household\n"
    "· Share information about neglect early\n"
    "Next steps are in the action plan."
)
LATER = "\nChild Q was also discussed at the Child Protection conference. A rapid review of Child 4 followed."
DOC = LEAD + BLOCK + LATER
THEMES = [
    Theme(id="fathers", label="Fathers and men", phrases=("fathers", "other men")),
    Theme(id="neglect", label="Neglect", phrases=("neglect",)),
]


def _chunk(chunk_id: str, start: int, end: int, *, doc_id: str = "d1", partnership: str = "") -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id=doc_id,
        ordinal=0,
        text=DOC[start:end],
        start=start,
        end=end,
        doc_hash="h",
        title="Annual report 2023",
        doc_type="annual_report",
        partnership=partnership or "North Safeguarding Children Partnership (NSCP)",
        year=2023,
    )


def _chunks(**kw: str) -> list[Chunk]:
    a, b = len(LEAD), len(LEAD) + len(BLOCK)
    return [_chunk("c0", 0, a, **kw), _chunk("c1", a, b, **kw), _chunk("c2", b, len(DOC), **kw)]


def test_a_described_review_gets_its_type_learning_and_themes() -> None:
    reviews = {r.name: r for r in build_index(_chunks(), THEMES)}
    q = reviews["Child Q"]
    assert q.review_type == "LCSPR"  # named in the lead-in before the block
    assert q.chunk_id == "c1" and q.year == 2023
    assert q.summary == "Child Q was a baby known to health visiting."
    assert [p.text for p in q.learning] == [
        "Professional curiosity about fathers and other men in the household",
        "Share information about neglect early",
    ]
    for point in q.learning:
        assert DOC[point.start : point.end] == point.text
    assert [p.themes for p in q.learning] == [("fathers",), ("neglect",)]
    assert q.themes == ["fathers", "neglect"]


def test_a_mention_is_indexed_and_its_own_line_gives_the_type() -> None:
    reviews = {r.name: r for r in build_index(_chunks(), THEMES)}
    assert reviews["Child 4"].review_type == "rapid review"
    assert reviews["Child 4"].learning == []


def test_phrases_that_are_not_reviews_are_left_out() -> None:
    names = {r.name for r in build_index(_chunks(), THEMES)}
    assert "Child Protection" not in names
    assert names == {"Child Q", "Child 4"}


def test_the_same_name_in_two_partnerships_is_two_reviews() -> None:
    north = _chunks()
    south = [c.model_copy(update={"doc_id": "d2", "partnership": "South Partnership"}) for c in _chunks()]
    found = [(r.name, r.partnership) for r in build_index(north + south, THEMES) if r.name == "Child Q"]
    assert sorted(p for _, p in found) == ["North Safeguarding Children Partnership (NSCP)", "South Partnership"]


def test_theme_counts_count_reviews_not_points() -> None:
    reviews = build_index(_chunks(), THEMES)
    assert theme_counts(reviews) == {"fathers": 1, "neglect": 1}


def test_label_uses_the_partnership_abbreviation_and_year() -> None:
    q = next(r for r in build_index(_chunks(), THEMES) if r.name == "Child Q")
    assert label(q) == "Child Q (LCSPR, NSCP 2023)"


def test_themes_file_loads_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    assert load_themes(tmp_path / "absent.yaml") == []
    good = tmp_path / "themes.yaml"
    good.write_text("themes:\n  - id: neglect\n    label: Neglect\n    phrases: [neglect, unmet needs]\n")
    assert load_themes(good) == [Theme(id="neglect", label="Neglect", phrases=("neglect", "unmet needs"))]
    bad = tmp_path / "bad.yaml"
    bad.write_text("themes: [\n")
    with pytest.raises(BadInput, match="not valid YAML"):
        load_themes(bad)


def test_theme_phrases_match_whole_terms_only() -> None:
    from core.text import terms

    theme = Theme(id="men", label="Men", phrases=("men",))
    assert theme.matches(terms("other men in the house", keep_stopwords=True))
    assert not theme.matches(terms("the mental health service", keep_stopwords=True))
