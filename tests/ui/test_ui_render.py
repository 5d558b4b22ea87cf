"""Unit tests of the pure rendering modules (ui/markup, answers, highlight, listing, messages): no Streamlit."""

from __future__ import annotations

from conftest import CITATION, DOC_TEXT, GLOSSARY, PASSAGE, QUOTE

from core import contracts
from ui import answers, highlight, listing, markup, messages

G = markup.Glossary(GLOSSARY["terms"])


def test_markers_become_links_to_their_citation():
    html = answers.render_answer("Key learning: [1]\n- Domestic abuse [1]", [CITATION], anchor_prefix="7")
    assert html.count('href="#pka-7-cite-1"') == 2
    assert 'class="pka-cite"' in html
    assert 'title="Source 1: ESSCP Annual Report 2021/22"' in html
    # markdown list structure is kept
    assert "\n- Domestic abuse " in html


def test_plain_lines_become_paragraphs_but_lists_stay_tight():
    html = answers.render_answer("First. [1]\nSecond. [1]\n- a\n- b\n  continued", [CITATION])
    assert "First. " in html and "</a>\n\nSecond." in html
    assert "\n- a\n- b\n  continued" in html


def test_marker_without_citation_is_left_as_text():
    html = answers.render_answer("Something [2]", [CITATION])
    assert "[2]" in html and "href" not in html


def test_answer_text_is_escaped_and_dollars_neutralised():
    html = answers.render_answer("<script>alert(1)</script> costs $5 and $6 [1]", [CITATION])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "$" not in html.replace("&#36;", "")


def test_anchor_ids_match_between_answer_and_citation_heading():
    html = answers.render_answer("x [1]", [CITATION], anchor_prefix="a b")
    assert f'href="#{markup.anchor_id("a b", 1)}"' in html
    assert " " not in markup.anchor_id("a b", 1)


def test_glossary_abbreviations_expand_on_hover():
    html = markup.annotate("Contact the MASH or the ESSCP.", G)
    assert '<abbr title="Multi-Agency Safeguarding Hub">MASH</abbr>' in html
    assert '<abbr title="East Sussex Safeguarding Children Partnership">ESSCP</abbr>' in html
    assert markup.expand_abbreviations("MASH", G) == markup.annotate("MASH", G)


def test_glossary_matches_whole_words_only_and_includes_notes():
    html = markup.annotate("SCRs and SCR and MASHED and mash", G)
    assert html.count("<abbr") == 1
    assert 'title="Serious Case Review — Before 2019."' in html


def test_glossary_in_answer_alongside_markers():
    html = answers.render_answer("The MASH [1]", [CITATION], glossary=G)
    assert "<abbr" in html and 'href="#pka-a0-cite-1"' in html


def test_empty_glossary_only_escapes():
    assert markup.annotate("a < b MASH", markup.Glossary()) == "a &lt; b MASH"
    assert not markup.Glossary([{"term": "X", "expansion": ""}])


def test_quote_parts_are_found_and_merged_in_the_passage():
    spans = highlight.quote_spans(PASSAGE, QUOTE)
    assert len(spans) == 1
    s, e = spans[0]
    assert PASSAGE[s:e].startswith("Key learning:")
    assert PASSAGE[s:e].endswith("pose risks to children")


def test_quote_found_despite_whitespace_differences():
    spans = highlight.quote_spans("Alpha beta\n  gamma delta. Other.", "beta gamma   delta.")
    assert spans and spans[0] == (6, 25)


def test_highlight_passage_marks_the_quote_and_keeps_one_block():
    html = highlight.highlight_passage(PASSAGE, QUOTE, glossary=G)
    assert html.startswith('<div class="pka-passage">')
    assert html.count('<mark class="pka-quote">') == 1
    assert "\n" not in html and "<br>" in html
    inside = html.split('<mark class="pka-quote">')[1].split("</mark>")[0]
    assert "Key learning:" in inside and "domestic abuse" in inside
    assert "Child Z (delay" not in inside


def test_highlight_passage_with_relative_offsets():
    html = highlight.highlight_passage("aaa bbb ccc", "", start=4, end=7)
    assert '<mark class="pka-quote">bbb</mark>' in html


def test_highlight_passage_without_a_match_has_no_mark():
    html = highlight.highlight_passage(PASSAGE, "words that are not there")
    assert "<mark" not in html


def test_document_highlight_uses_offsets():
    start, end = CITATION["start"], CITATION["end"]
    spans = highlight.document_spans(DOC_TEXT, start, end, QUOTE)
    assert spans and spans[0][0] == start
    html = highlight.highlight_document(DOC_TEXT, start, end, QUOTE, glossary=G, mark_id="q")
    assert '<mark class="pka-quote" id="q">' in html
    assert "<abbr" in html  # MASH in the intro line


def test_document_highlight_falls_back_to_the_range_or_the_quote():
    assert highlight.document_spans("0123456789", 2, 5, "zzz") == [(2, 5)]
    assert highlight.document_spans("abc Key learning: x", None, None, "Key learning:") == [(4, 17)]
    assert highlight.document_spans("abc", 5, 9, "") == []


def test_context_window_is_bounded_and_contains_the_quote():
    text = ("line\n" * 400) + "THE QUOTE" + ("\nline" * 400)
    spans = [(text.index("THE QUOTE"), text.index("THE QUOTE") + 9)]
    lo, hi = highlight.context_window(text, spans, before=100, after=100)
    assert lo <= spans[0][0] and hi >= spans[0][1]
    assert hi - lo < 400
    html = highlight.highlight_document(text, spans[0][0], spans[0][1], window=(lo, hi))
    assert html.startswith('<div class="pka-document">… ') and html.endswith(" …</div>")


def test_abstention_is_calm_and_signposts():
    md = answers.render_abstention("I can't find an answer.", filtered=True, filters_text="type: Minutes")
    assert "Nothing in the filtered documents (type: Minutes) answers this" in md and "clear the filters" in md
    assert "999" in md and "Document library" in md
    assert "error" not in md.lower()
    assert "clear the filters" not in answers.render_abstention("x")
    assert "couldn't find" in answers.render_abstention("x")


def test_describe_filters():
    assert answers.describe_filters(None) == "all documents"
    assert answers.describe_filters({"doc_type": None}) == "all documents"
    text = answers.describe_filters(
        {
            "doc_type": ["annual_report"],
            "partnership": "East Sussex Safeguarding Children Partnership (ESSCP)",
            "year_from": 2020,
            "year_to": 2022,
        }
    )
    assert text == "type: Annual report · partnership: ESSCP · years 2020–2022"
    assert answers.describe_filters({"year_from": 2021}) == "from 2021"


def test_searched_caption_mentions_rewrite_and_time():
    cap = messages.searched_caption(
        {
            "question": "and then?",
            "standalone_question": "What then about Child Z?",
            "filters": None,
            "timings_ms": {"retrieve": 30, "compose": 3},
        }
    )
    assert cap == "Searched all documents · Taken to mean “What then about Child Z?” · 33 ms"


def test_follow_up_note_in_plain_words():
    earlier = "What did the Child Z review teach?"
    note = messages.follow_up_note("and what did it recommend?", f"and what did it recommend? — {earlier}")
    assert note == f"Taken as a follow-up to your earlier question “{earlier}”"
    assert messages.follow_up_note("and child 4?", f"and child 4? ({earlier})").endswith(f"“{earlier}”")
    swapped = messages.follow_up_note("and child 4?", "What did the Child 4 review teach?")
    assert swapped == "Taken to mean “What did the Child 4 review teach?”"
    # no caption when the rewrite adds nothing meaningful (same words, other case or punctuation)
    assert messages.follow_up_note("What is the MASH?", "What is the MASH?") == ""
    assert messages.follow_up_note("what is the mash", "What is the MASH?") == ""


def test_urgent_answer_splits_into_alert_steps_and_the_rest():
    steps = "**If worried now:**\n- Call 999 now.\n- Tell your DSL.\nNot a replacement."
    text = f"{steps}\n\n**What the knowledge base says:**\nX [1]"
    steps, rest = messages.split_urgent(text)
    assert rest == "X [1]" and steps.startswith("**If worried now:**")
    html = messages.render_urgent_steps(steps + "\n- <b>x</b>")
    assert html.startswith('<div class="pka-urgent" role="alert">')
    assert "<strong>If worried now:</strong>" in html and "<li>Call 999 now.</li>" in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_lower_words_keeps_abbreviations():
    assert markup.lower_words("DSL") == "DSL"
    assert markup.lower_words("Practitioner") == "practitioner"
    assert markup.lower_words("New board member") == "new board member"


def test_citation_source_is_a_details_with_the_anchored_highlighted_passage():
    html = highlight.citation_source(CITATION, "3", glossary=G)
    assert html.startswith('<details class="pka-source"><summary')
    assert '<div class="pka-passage" id="pka-3-cite-1">' in html and "<mark" in html
    assert "\n\n" not in html  # one markdown block


def test_citation_meta_and_labels():
    meta = highlight.citation_meta({**CITATION, "page": 4})
    assert meta == "Annual report · ESSCP · 5 Learning › 5.1 Rapid Reviews · p. 4"
    assert contracts.doc_type_label("national_guidance") == "National guidance"
    assert contracts.doc_type_label("new_kind") == "New kind"
    assert markup.short_partnership("Plain name") == "Plain name"


def test_document_rows_and_filter_options():
    docs = [
        {"document_id": "b", "title": "B", "doc_type": "minutes", "partnership": "P2", "year": 2010, "chunks": 3},
        {
            "document_id": "a",
            "title": "A",
            "doc_type": "annual_report",
            "partnership": "P1",
            "year": None,
            "date": "",
            "chunks": 5,
        },
    ]
    rows = listing.document_rows(docs)
    assert [r["Id"] for r in rows] == ["a", "b"]
    assert rows[1]["Chunks"] == 3 and rows[1]["Type"] == "Minutes"
    assert listing.partnerships_of(docs) == ["P1", "P2"]
    assert listing.year_bounds(docs) == (2010, 2010)
    assert listing.year_bounds([]) is None
