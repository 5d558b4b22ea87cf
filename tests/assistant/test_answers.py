"""Extractive answers, abstention checks, follow-ups and the text helpers, on hand-made passages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.compose import Composer
from assistant.conversation import is_follow_up, standalone
from core.glossary import Glossary
from core.text import sentence_spans, terms
from core.types import Chunk, SearchHit

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = Glossary.load(ROOT / "knowledge" / "glossary.yaml")


def _hit(
    text: str,
    rank: int = 1,
    *,
    doc: str = "d.txt",
    title: str = "Testshire Annual Report 2021/22",
    partnership: str = "Testshire Safeguarding Children Partnership",
    start: int = 0,
    kind: str = "text",
) -> SearchHit:
    chunk = Chunk(
        chunk_id=f"c{rank}{doc}",
        doc_id=doc,
        ordinal=rank,
        text=text,
        start=start,
        end=start + len(text),
        section="5 Learning",
        kind=kind,
        context=f"{title} | 5 Learning",
        doc_hash="h",
        title=title,
        doc_type="annual_report",
        partnership=partnership,
        year=2022,
    )
    return SearchHit(chunk=chunk, score=1.0 / rank, rank=rank, dense=0.6)


def _compose(question: str, *hits: SearchHit, threshold: float | None = None):
    """With the fitted scorer and its threshold; `threshold=0` tests an answer's shape, not whether to give it."""
    composer = Composer(lambda t: 1.0, alternatives=GLOSSARY.alternatives, threshold=threshold)
    return composer.compose(question, list(hits))


def test_fact_answer_quotes_the_sentence_with_a_citation() -> None:
    a = _compose(
        "How many rapid reviews did the partnership hold in 2021/22?",
        _hit("In 2021/22 the partnership held 9 rapid reviews. Three became local reviews."),
        _hit("The Board meets four times a year.", 2),
        threshold=0.0,
    )
    assert not a.abstained
    assert a.answer.startswith("In 2021/22 the partnership held 9 rapid reviews. [1]")
    assert [c.n for c in a.citations] == [1] and a.citations[0].quote.startswith("In 2021/22")


def test_a_figure_for_another_year_is_not_an_answer() -> None:
    a = _compose(
        "How many child deaths was the panel notified of in 2021/22?",
        _hit("· Between April 2020 and March 2021, the panel was notified of 54 deaths of children."),
    )
    assert a.abstained and a.citations == []


def test_a_duration_does_not_answer_how_many() -> None:
    a = _compose(
        "How many rapid reviews did the partnership carry out?",
        _hit("Rapid reviews were consistently completed within fifteen days by the partnership."),
    )
    assert a.abstained


def test_who_is_answered_by_the_line_naming_a_person_in_the_role_asked_about() -> None:
    # The general behaviour: for "who", the scorer prefers a unit naming a person (answer-type agreement) that also
    # holds the role asked about (coverage); a role alone, or a person in another role, comes after it.
    role_only = _hit("The Chairman gave an update to the Board in May 2010 on the partnership.", doc="a.txt")
    named = _hit("Jane Smith, Independent Chair of the Board, gave an update in May 2010.", doc="b.txt")
    other_role = _hit("Amir Khan, Head of Quality for the Board, presented the report in 2010.", doc="c.txt")
    composer = Composer(lambda t: 1.0, alternatives=GLOSSARY.alternatives)
    cands = composer.candidates("Who was chairing the Board in 2010?", [role_only, named, other_role])
    p = {u.chunk.doc_id: v for u, v in zip(cands.units, composer.model.proba(cands.x), strict=True)}
    assert p["b.txt"] > p["a.txt"] and p["b.txt"] > p["c.txt"]
    a = _compose("Who was chairing the Board in 2010?", role_only, named, other_role, threshold=0.0)
    assert a.answer.startswith("Jane Smith")


def test_learning_question_returns_the_named_reviews_list() -> None:
    a = _compose(
        "What did the Child Q review teach?",
        _hit(
            "Child Q (published 2022)\nKey learning:\n· Bruising in a non-mobile baby must be discussed\n"
            "· Think about fathers and male carers",
            kind="review",
        ),
        _hit("Child R\nKey learning:\n· Something else entirely\n· Another point", 2, kind="review"),
        threshold=0.0,
    )
    lines = a.answer.splitlines()
    assert lines[0].startswith("Child Q (published 2022)")
    assert "- Bruising in a non-mobile baby must be discussed [1]" in lines
    assert "- Think about fathers and male carers [1]" in lines
    assert "Something else" not in a.answer


def test_list_keeps_items_across_attribute_lines() -> None:
    a = _compose(
        "What are the partnership's priorities?",
        _hit(
            "The agreed priorities are:\n· Safeguarding in Education\nLead: Head of Schools\n· Child Exploitation\n"
            "Lead: Police\n· Under 5s"
        ),
        threshold=0.0,
    )
    assert [ln for ln in a.answer.splitlines() if ln.startswith("- ")] == [
        "- Safeguarding in Education [1]",
        "- Child Exploitation [1]",
        "- Under 5s [1]",
    ]


def test_procedure_question_without_an_instruction_abstains() -> None:
    a = _compose(
        "What does the bruising protocol tell you to do if you find a bruise on a baby?",
        _hit("· Updating of procedures on injuries (including bruising) and a leaflet for parents on bruising."),
    )
    assert a.abstained


def test_elided_source_line_abstains_and_points_to_the_source() -> None:
    a = _compose(
        "What did the committee say about child exploitation in work?",
        _hit(
            "· Child exploitation in work – a question ... view the full minutes text for item 17",
            title="County Council minutes",
        ),
    )
    assert a.abstained and "County Council minutes" in a.answer


def test_contact_question_needs_contact_details() -> None:
    # Only a contact detail answers "what is the number": a count of contacts received is not one, however close.
    assert _compose("What is the phone number for the MASH?", _hit("The MASH received 19,383 contacts.")).abstained
    a = _compose(
        "What is the phone number for the MASH?", _hit("Call the MASH on 01273 123456 in office hours."), threshold=0.0
    )
    assert not a.abstained and "01273 123456" in a.answer


def test_comparison_gives_a_line_per_source() -> None:
    a = _compose(
        "Compare the two partnerships - who provides independent scrutiny in each partnership?",
        _hit(
            "The Independent Scrutineer provides independent scrutiny of the partnership.",
            1,
            doc="a.txt",
            partnership="Alpha Partnership (ASCP)",
        ),
        _hit(
            "Independent scrutiny in the partnership is provided by the Independent Chair and Scrutineer.",
            2,
            doc="b.txt",
            partnership="Beta Partnership (BSCP)",
        ),
        threshold=0.0,  # the shape of the answer: a line per partnership (the service adds whose line it is)
    )
    lines = a.answer.splitlines()
    assert len(lines) == 2 and lines[0].endswith("[1]") and lines[1].endswith("[2]")
    assert [c.document_id for c in a.citations] == ["a.txt", "b.txt"]


def test_citations_are_numbered_in_order_of_first_use_and_every_line_is_cited() -> None:
    a = _compose(
        "What did the Board decide about the annual report and the budget?",
        _hit("The Board RESOLVED to note the annual report. The Board agreed the budget for the year."),
        threshold=0.0,
    )
    assert all(re.search(r"\[\d+\]$", line) for line in a.answer.splitlines())
    assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))


def test_nothing_relevant_abstains_with_signposting() -> None:
    a = _compose("What is the policy on drones over playgrounds?", _hit("The Board meets four times a year."))
    assert a.abstained and "999" in a.answer and "Designated Safeguarding Lead" in a.answer


@pytest.mark.parametrize(
    ("question", "history", "expected"),
    [
        ("and child 4?", ["What did the Child Z review teach?"], "What did the child 4 review teach?"),
        (
            "what did it teach?",
            ["Which review was about the baby?"],
            "what did it teach? — Which review was about the baby?",
        ),
        ("Who chairs the ESSCP board?", ["What did the Child Z review teach?"], "Who chairs the ESSCP board?"),
        ("and what about it?", [], "and what about it?"),
    ],
)
def test_follow_ups_become_standalone(question: str, history: list[str], expected: str) -> None:
    assert standalone(question, history) == expected


def test_history_turns_in_api_shape() -> None:
    history = [{"role": "user", "content": "How many EHE children were there?"}, {"role": "assistant", "content": "x"}]
    assert standalone("and a year earlier?", history).endswith("How many EHE children were there?")
    assert is_follow_up("and what about Surrey?") and not is_follow_up("What are the ESSCP's four priorities?")


def test_terms_fold_numbers_years_and_number_words() -> None:
    assert terms("19,383 gatherings in 21-22") == terms("19383 gathering in 2021/2022")
    assert terms("fifteen days") == terms("15 days")


def test_sentences_do_not_break_after_list_numbers_or_initials() -> None:
    text = "1. First item. Second sentence.\nMr. J. Smith came. It was 3.5 times."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "1. First item.",
        "Second sentence.",
        "Mr. J. Smith came.",
        "It was 3.5 times.",
    ]


def test_glossary_expands_abbreviations_both_ways() -> None:
    assert "Multi-Agency Safeguarding Hub" in GLOSSARY.expand("MASH referrals")
    assert "EHE" in GLOSSARY.expand("children who are home educated")
    assert {"elect", "home", "educ"} <= GLOSSARY.alternatives("How many EHE children?")["ehe"]


def test_glossary_names_what_replaced_an_old_term() -> None:
    found = {t.term for t in GLOSSARY.old_terms_in("The Serious Case Review and the LSCB said the CCG would fund it.")}
    assert found == {"SCR", "LSCB", "CCG"}
    assert GLOSSARY.old_terms_in("The LCSPR and the partnership") == []
