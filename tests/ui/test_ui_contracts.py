"""The words the UI shares with the API come from core/contracts.py, and the UI keeps no copy of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core import contracts
from core.types import DOC_TYPES
from ui import answers

UI_DIR = Path(__file__).resolve().parents[2] / "ui"


def _ui_source() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(UI_DIR.glob("*.py")))


def test_every_document_type_has_one_label() -> None:
    assert tuple(contracts.DOC_TYPE_LABELS) == DOC_TYPES
    assert len(set(contracts.DOC_TYPE_LABELS.values())) == len(DOC_TYPES)
    assert contracts.doc_type_label(None) == "" and contracts.doc_type_label("case_file") == "Case file"


def test_the_api_reasons_are_the_ones_the_ui_explains() -> None:
    from assistant.generate import REASONS

    assert dict(REASONS) == dict(contracts.FALLBACK_REASONS)
    for code, words in contracts.FALLBACK_REASONS.items():
        note = answers.mode_note({"mode": "extractive", "fallback_reason": code})
        if code in contracts.ABSTAINING_REASONS:
            assert note == ""  # nothing was quoted, so no "Quoted from the sources" line
        else:
            assert note == f"Quoted from the sources ({words})."


def test_an_api_abstention_rendered_by_the_ui_signposts_once() -> None:
    from assistant.compose import SIGNPOST

    assert SIGNPOST == contracts.SIGNPOST
    api_text = "I can't find an answer to that in the partnership's knowledge base, so I won't guess. " + SIGNPOST
    assert answers.render_abstention(api_text).count("999") == 1
    assert contracts.SIGNPOST in answers.render_abstention("")  # the UI adds it when the API's text lacks it


@pytest.mark.parametrize(
    "literal",
    [
        *(rf"[\"']{re.escape(w)}[\"']" for w in contracts.DOC_TYPE_LABELS.values()),
        *(rf"[\"']{re.escape(w)}[\"']" for w in contracts.FALLBACK_REASONS.values()),
        r"[\"']if a child is in immediate danger",
    ],
)
def test_the_ui_declares_no_copy_of_a_shared_contract(literal: str) -> None:
    """A label, reason or signposting sentence written out as a string in ui/ would drift from the API's."""
    assert not re.search(literal, _ui_source(), re.I), literal
