"""What shape of answer a question asks for, read once from its interrogative words: a count, a person or role,
a date, a list, a definition, a procedure to follow. English marks these with a few fixed phrasings ("how many"
asks for a count, "who" for a person or role, "when" for a date, "what does X stand for" for an expansion, "what
should I do" for a procedure), which is all this reads; nothing here names a place, document or question.

`asks()` gives every shape a question asks for (a "who chairs it and how often does it meet?" asks two); the
answer scorer reads these flags as features. `question_kind()` is the one shape that leads, derived from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS = ("count", "date", "who", "definition", "procedure", "list", "fact")

_COUNT = re.compile(
    r"\bhow (?:many|much|long|often|big|large)\b|\bwhat (?:number|percentage|proportion|share|figure|rate|amount)\b"
    r"|\b(?:number|count|total|budget|figures?|percentage|cost)\b",
    re.I,
)
_WHO = re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|people|officer|organisations?|agenc(?:y|ies))\b", re.I)
_WHEN = re.compile(r"\bwhen\b|\bwhat (?:date|year|month|day)\b|\bhow soon\b", re.I)
# "When" opening the question asks for a date; inside it ("what happens when …") it usually sets a condition.
_WHEN_LEADS = re.compile(r"^\W*(?:(?:and|so|ok|okay)\W+)?when\b|\bwhat (?:date|year|day|month)\b|\bhow soon\b", re.I)
_LIST = re.compile(
    r"\bwhat (?:are|were)\b|\bwhich\b|\blist\b|\bname the\b|\b(?:priorities|themes|areas|steps|actions|points|"
    r"recommendations|lessons|learn\w*|teach\w*|taught|members|strands|aims|objectives|issues)\b",
    re.I,
)
_DEFINITION = re.compile(
    r"\bstand(?:s)? for\b|\bmean(?:s|ing)?\b|\babbreviation\b|\bacronym\b|\bshort for\b|\bdefin\w+\b"
    r"|^\W*what(?:'s| is| are)\s+(?:an? |the )?[A-Z][A-Za-z&]{1,8}s?\W*$",
    re.I,
)
_ABBREV = re.compile(r"\b[A-Z][A-Z&]{1,7}s?\b")
_PROCEDURE = re.compile(
    r"\bwhat (?:should|must|do|can) (?:i|we|you)\b|\bhow (?:do|should|can) (?:i|we|you)\b|\bwhat (?:has|needs) to "
    r"happen\b|\bwhat happens (?:if|when|next)\b|\bsteps?\b|\bwhat to do\b|\bwho do i\b",
    re.I,
)
# Asking how to reach someone: a phone number, an e-mail address, contact details.
_CONTACT = re.compile(
    r"\b(?:phone|telephone|mobile|e-?mail)(?: number| address)?\b|\bcontact (?:details|number|address)\b"
    r"|\bwhat(?:'s| is) the number\b|\bhow (?:do|can|should) (?:i|we|you) (?:contact|reach|call|ring|email)\b",
    re.I,
)
# Asking to set two or more things side by side: each gets its own answer line.
_COMPARE = re.compile(
    r"\bcompar\w*\b|\bversus\b|\bvs\.?(?=\s)|\bdiffer(?:s|ed|ence|ences)?\b|\b(?:in|for) (?:each|both)\b"
    r"|\beach (?:of|partnership|area)\b|\bboth\b",
    re.I,
)
# A question about what is in force now ("is it still current?", "the latest procedure").
_CURRENT = re.compile(
    r"\b(?:current(?:ly)?|latest|most recent|up[- ]to[- ]date|still (?:in force|valid|apply|applies|current)|"
    r"in force|nowadays|superseded|replaced)\b",
    re.I,
)


@dataclass(frozen=True)
class Asks:
    """Every shape of answer a question asks for."""

    count: bool = False
    who: bool = False
    when: bool = False
    list: bool = False
    definition: bool = False
    procedure: bool = False
    contact: bool = False  # how to reach someone: only a contact detail answers it
    compare: bool = False  # two or more things side by side: a line for each

    @property
    def kinds(self) -> tuple[float, ...]:
        """The answer-type flags the scorer reads, in a fixed order."""
        return tuple(float(x) for x in (self.count, self.who, self.when, self.list, self.definition))


def asks(question: str) -> Asks:
    definition = bool(_DEFINITION.search(question)) and bool(_ABBREV.search(question) or "mean" in question.lower())
    return Asks(
        count=bool(_COUNT.search(question)),
        who=bool(_WHO.search(question)),
        when=bool(_WHEN.search(question)),
        list=bool(_LIST.search(question)) and not definition,
        definition=definition,
        procedure=bool(_PROCEDURE.search(question)),
        contact=bool(_CONTACT.search(question)),
        compare=bool(_COMPARE.search(question)),
    )


def kind_of(a: Asks, question: str) -> str:
    """The shape that leads, in KINDS order: a "how many … who" question wants the count; a procedure question
    ("who do I tell?") wants the steps, not a name."""
    if a.count:
        return "count"
    if a.when and _WHEN_LEADS.search(question):
        return "date"
    if a.procedure:
        return "procedure"
    if a.who:
        return "who"
    if a.definition:
        return "definition"
    if a.list:
        return "list"
    return "fact"


def question_kind(question: str) -> str:
    """One of KINDS (see kind_of)."""
    return kind_of(asks(question.strip()), question.strip())


def asks_current(question: str) -> bool:
    return bool(_CURRENT.search(question))
