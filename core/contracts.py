"""Words the API and the UI must agree on, in one place: what each document type is called, why a generative answer
fell back to quotes, where an urgent answer's documents part starts, and the signposting line an abstention ends
with. Read-only constants and a lookup; stdlib only, so the UI can import it without the assistant."""

from __future__ import annotations

from types import MappingProxyType

# One label per core.types.DocType code (tests/ui/test_ui_contracts.py checks they match).
DOC_TYPE_LABELS: MappingProxyType[str, str] = MappingProxyType(
    {
        "learning_briefing": "Learning briefing",
        "procedure": "Procedure",
        "annual_report": "Annual report",
        "minutes": "Minutes",
        "national_guidance": "National guidance",
        "other": "Other",
    }
)


def doc_type_label(doc_type: str | None) -> str:
    """The label a reader sees for a doc_type code; an unknown code is shown as words ('case_file' -> 'Case file')."""
    if not doc_type:
        return ""
    return DOC_TYPE_LABELS.get(doc_type, doc_type.replace("_", " ").capitalize())


# Why an answer was quoted rather than written by the language model: the API's `fallback_reason` codes.
FALLBACK_REASONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "llm_timeout": "the language model did not answer in time",
        "llm_error": "the language model could not be reached or sent an unusable reply",
        "llm_empty": "the language model sent an empty reply",
        "circuit_open": "the language model failed repeatedly and is paused for a while",
        "llm_abstained": "the language model found no answer, but passages quoted word for word do answer",
        "citations_failed": "too little of the generated answer was supported by its citations",
        "extractive_abstained": "no passage answers the question, so the language model was not asked",
    }
)

# The reasons that come with an abstention: nothing was quoted, so the UI shows no "Quoted from the sources" line.
ABSTAINING_REASONS: frozenset[str] = frozenset({"extractive_abstained"})

# In an urgent answer, the heading between the fixed signposting steps and what the documents say: the UI splits the
# answer there to show the steps as an alert.
URGENT_DOCUMENTS_HEADING = "**What the knowledge base says:**"

# The line every abstention ends with, so a reader with a live worry is never left without a next step.
SIGNPOST = (
    "For a procedure, check your partnership's multi-agency child protection procedures "
    "or ask your Designated Safeguarding Lead. If you are worried about a child now, "
    "contact the local front door or MASH; if a child is in immediate danger, call 999."
)
