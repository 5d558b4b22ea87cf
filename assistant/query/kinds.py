"""What shape of answer a question asks for, from its interrogative words: a count, a person or role, a date,
a definition, a procedure to follow, a list, or a plain fact. English marks these with a few fixed phrasings at
the start of a question ("how many", "who", "when", "what does X stand for"), which is all this reads.

Imports: stdlib only.
"""

from __future__ import annotations

import re

KINDS = ("count", "date", "who", "definition", "procedure", "list", "fact")

_COUNT = re.compile(
    r"\bhow (?:many|much|often|long)\b|\bwhat (?:number|percentage|proportion|share|figure|rate|total)\b"
    r"|\bnumbers? of\b",
    re.I,
)
_DATE = re.compile(r"^\W*(?:(?:and|so|ok|okay)\W+)?when\b|\bwhat (?:date|year|day|month)\b|\bhow soon\b", re.I)
_WHO = re.compile(r"^\W*(?:(?:and|so|ok|okay)\W+)?(?:who|whom|whose)\b|\bwho (?:is|are|was|were|chairs|leads)\b", re.I)
_DEFINITION = re.compile(
    r"\bstand(?:s)? for\b|\bwhat (?:is|are) (?:meant by|an? )?[\w&'-]+\??$|\bmeaning of\b|\bdefin(?:e|ition)\b"
    r"|\bwhat counts as\b|\bwhat does [\w&'-]+ mean\b",
    re.I,
)
_PROCEDURE = re.compile(
    r"\bwhat (?:should|must|do|can) (?:i|we|you)\b|\bhow (?:do|should|can) (?:i|we|you)\b|\bwhat (?:has|needs) to "
    r"happen\b|\bwhat happens (?:if|when|next)\b|\bsteps?\b|\bwhat to do\b|\bwho do i\b",
    re.I,
)
_LIST = re.compile(
    r"^\W*(?:list|name)\b|\bwhat (?:are|were) the\b|\bwhich (?:\w+ ){0,3}(?:are|were|does|do|did)\b|\bwhat kinds?\b",
    re.I,
)
# A question about what is in force now ("is it still current?", "the latest procedure").
_CURRENT = re.compile(
    r"\b(?:current(?:ly)?|latest|most recent|up[- ]to[- ]date|still (?:in force|valid|apply|applies|current)|"
    r"in force|nowadays|superseded|replaced)\b",
    re.I,
)


def question_kind(question: str) -> str:
    """One of KINDS; the first that applies, in that order (a "how many ... who" question wants the count)."""
    q = question.strip()
    if _COUNT.search(q):
        return "count"
    if _DATE.search(q):
        return "date"
    if _PROCEDURE.search(q):
        return "procedure"
    if _WHO.search(q):
        return "who"
    if _DEFINITION.search(q):
        return "definition"
    if _LIST.search(q):
        return "list"
    return "fact"


def asks_current(question: str) -> bool:
    return bool(_CURRENT.search(question))
