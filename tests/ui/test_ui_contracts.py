"""The words the UI shares with the API come from core/contracts.py, and the UI keeps no copy of its own."""

from __future__ import annotations

import ast
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
        rf"[\"']{re.escape(contracts.URGENT_DOCUMENTS_HEADING)}[\"']",
    ],
)
def test_the_ui_declares_no_copy_of_a_shared_contract(literal: str) -> None:
    """A label, reason or signposting sentence written out as a string in ui/ would drift from the API's."""
    assert not re.search(literal, _ui_source(), re.I), literal


def test_the_ui_imports_nothing_of_the_project_but_the_shared_contracts() -> None:
    """The UI talks to the API over HTTP: from the rest of the project it may import core.contracts only."""
    project = {"core", "ingest", "assistant", "evals", "bench", "tests", "pka_cli"}
    found: set[str] = set()
    for path in UI_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.level == 0 else []
            found |= {f"{path.name}: {n}" for n in names if n.split(".")[0] in project}
    assert {f.split(": ")[1] for f in found} <= {"core.contracts"}, sorted(found)
