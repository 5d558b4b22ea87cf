"""Citations (assistant/citing.py): numbered in order of first use, one per passage, quotes joined."""

from __future__ import annotations

from assistant.citing import Citer, citation
from core.types import Chunk

DOC = "Intro line. The board meets quarterly. Its chair is independent. Other text follows here."


def _chunk(chunk_id: str, start: int, end: int) -> Chunk:
    return Chunk(
        chunk_id=chunk_id,
        doc_id="doc-1",
        ordinal=0,
        text=DOC[start:end],
        start=start,
        end=end,
        section="2. Governance",
        page=3,
        doc_hash="h",
        title="Annual report",
        doc_type="annual_report",
        partnership="ESSCP",
    )


def test_citation_copies_the_passage_and_quote() -> None:
    chunk = _chunk("c1", 12, 64)
    c = citation(chunk, n=2, quote="The board meets quarterly.", start=12, end=38)
    assert (c.n, c.chunk_id, c.document_id, c.title, c.section, c.page) == (
        2,
        "c1",
        "doc-1",
        "Annual report",
        "2. Governance",
        3,
    )
    assert c.text == chunk.text and c.doc_type == "annual_report" and c.partnership == "ESSCP"


def test_quote_is_cut_from_document_offsets() -> None:
    chunk = _chunk("c1", 12, 64)
    citer = Citer()
    assert citer.cite(chunk, 12, 38) == "[1]"
    (c,) = citer.citations
    assert c.quote == "The board meets quarterly." == DOC[c.start : c.end]


def test_a_passage_keeps_its_number_and_gathers_its_quotes() -> None:
    first, second = _chunk("c1", 12, 64), _chunk("c2", 0, 11)
    citer = Citer()
    markers = [citer.cite(first, 12, 38), citer.cite(second, 0, 11), citer.cite(first, 39, 64)]
    assert markers == ["[1]", "[2]", "[1]"]
    assert [c.n for c in citer.citations] == [1, 2]
    joined = citer.citations[0]
    assert joined.quote == "The board meets quarterly. … Its chair is independent."
    assert (joined.start, joined.end) == (12, 64)


def test_quoting_the_same_part_twice_does_not_repeat_it() -> None:
    chunk = _chunk("c1", 12, 64)
    citer = Citer()
    citer.cite(chunk, 12, 38)
    citer.cite(chunk, 12, 38)
    assert citer.citations[0].quote == "The board meets quarterly."
