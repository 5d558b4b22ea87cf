"""Answers under filters: a question that names a review (from the review index) which no passage the filters
allow mentions is not answered from unrelated passages of the filtered documents.

Without filters the review index answers such questions itself (assistant/safeguarding.py); with filters the
answer is composed from the filtered passages only, and the best of those can share the question's other words
("review", "teach") while being about something else.
"""

from __future__ import annotations

import re

from assistant.compose import Composition
from assistant.reviews import Review
from core.contracts import SIGNPOST


def named_reviews(question: str, reviews: list[Review]) -> list[str]:
    """The review names (Child Z, Family CC, …) the question names, longest first, as the index spells them."""
    names = sorted({r.name for r in reviews}, key=len, reverse=True)
    return [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", question, re.I)]


def check_filtered(
    question: str, result: Composition, reviews: list[Review], passages: list[str] | None = None
) -> Composition:
    """`result`, or an abstention saying so when the question names a review and no cited passage mentions it (an
    abstention already made says so too when none of the filtered `passages` retrieved mentions it)."""
    names = named_reviews(question, reviews)
    if not names:
        return result
    seen = " ".join(passages or []) if result.abstained else " ".join(c.text for c in result.citations)
    if any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", seen, re.I) for n in names):
        return result
    text = (
        f"Nothing in the documents these filters allow mentions {names[0]}, so I won't answer from unrelated "
        "passages. Clear the filters to search every document. " + SIGNPOST
    )
    return Composition(answer=text, abstained=True, citations=[], kind="abstain")
