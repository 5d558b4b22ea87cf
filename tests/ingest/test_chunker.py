"""Chunking follows the document's structure and keeps exact offsets."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from core.types import Document, DocumentMeta, Span
from ingest.chunker import chunk_document
from ingest.clean import clean_text


def _doc(text: str, spans: tuple[Span, ...] = ()) -> Document:
    return Document(
        doc_id="d.txt",
        meta=DocumentMeta(title="T", doc_type="other"),
        media_type="text/plain",
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        spans=spans,
    )


REPORT = clean_text(
    "5.\tLearning\n5.1\tLearning from Rapid Reviews\nIn 2021/22 the partnership undertook eight Rapid Reviews. "
    + "More detail follows here. " * 10
    + "\n\tChild X (not published)\nChild X Learning Briefing 2022\nKey learning:\n· Information sharing\n"
    "· Access to health resources\n\tChild Z (delay in publication)\nKey learning:\n· The legacy of domestic abuse\n"
    "· Assessing background information\n\n5.2\tQuality Assurance Audits\nThe QA subgroup held three audits.\n"
)


def test_sections_and_review_blocks() -> None:
    chunks = chunk_document(_doc(REPORT), max_chars=400, min_chars=50)
    z = next(c for c in chunks if "Child Z" in c.text)
    assert z.kind == "review"
    assert "legacy of domestic abuse" in z.text and "Assessing background" in z.text
    assert "Child X" not in z.text  # each review is its own chunk
    x = next(c for c in chunks if "Child X" in c.text)
    assert "Information sharing" in x.text and "Access to health" in x.text
    assert z.section == "5 Learning › 5.1 Learning from Rapid Reviews"
    qa = next(c for c in chunks if "QA subgroup" in c.text)
    assert qa.section == "5 Learning › 5.2 Quality Assurance Audits"
    assert "5.2 Quality Assurance Audits" in qa.text


def test_minute_items_start_chunks() -> None:
    text = clean_text(
        "17 Annual Report\n17.1 The Board considered the report. " + "Words. " * 30 + "\n"
        "17.2 The Chair said 8 rapid reviews were held. " + "More. " * 30 + "\n17.3 The Board RESOLVED to note it.\n"
    )
    chunks = chunk_document(_doc(text), max_chars=300, min_chars=50)
    assert any(c.text.startswith("17.2 The Chair said 8 rapid reviews") for c in chunks)
    assert any(c.kind == "minute" for c in chunks)


def test_table_rows_carry_their_header() -> None:
    rows = "\n".join(f"({i}) Recommendation number {i} text here\tPosition {i} reply" for i in range(1, 12))
    text = clean_text("Recommendation\tPosition\n" + rows + "\n")
    chunks = chunk_document(_doc(text), max_chars=200, min_chars=20)
    assert len(chunks) > 2
    assert all("Recommendation | Position" in c.context for c in chunks)
    assert all(c.kind == "table" for c in chunks)


def test_numbered_list_is_not_headings() -> None:
    text = clean_text("New courses were:\n1. LGBTQ context\n2. Children in Care\n3. FGM awareness\n")
    chunks = chunk_document(_doc(text), max_chars=500, min_chars=20)
    assert len(chunks) == 1 and chunks[0].section == ""


def test_oversized_block_is_split_under_the_limit() -> None:
    text = clean_text(" ".join(f"Sentence number {i} says something." for i in range(200)))
    chunks = chunk_document(_doc(text), max_chars=300, min_chars=50)
    assert len(chunks) > 5
    assert all(len(c.text) <= 300 for c in chunks)


def test_pages_from_spans() -> None:
    text = "Page one text.\n\nPage two text.\n"
    spans = (Span(kind="page", label="1", start=0, end=15), Span(kind="page", label="2", start=16, end=len(text)))
    chunks = chunk_document(_doc(text, spans), max_chars=15, min_chars=1)
    assert [c.page for c in chunks] == [1, 2]


def test_ids_are_stable_and_unique() -> None:
    a = chunk_document(_doc(REPORT), max_chars=400, min_chars=50)
    b = chunk_document(_doc(REPORT), max_chars=400, min_chars=50)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert len({c.chunk_id for c in a}) == len(a)


_line = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=120),
    st.sampled_from(
        ["4.1\tHeading", "· bullet item", "Key learning:", "\tChild Z (x)", "a\tb\tc", "17.2 Minute text.", ""]
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_line, max_size=40), st.integers(min_value=40, max_value=600))
def test_offsets_round_trip_and_cover_all_text(lines: list[str], max_chars: int) -> None:
    text = clean_text("\n".join(lines))
    doc = _doc(text)
    chunks = chunk_document(doc, max_chars=max_chars, min_chars=min(20, max_chars - 1))
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert len(c.text) <= max_chars
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
