"""What kind of answer a question asks for, read from its interrogative words, and what kind of answer a unit
offers, read from its form. These patterns encode general facts of English ("how many" asks for a count, "who"
for a person or role, "when" for a date, "what does X stand for" for an expansion) and of document typography
(numbers, dates, proper names, list items); nothing in them names a place, document or question.

Imports: stdlib.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COUNT_Q = re.compile(
    r"\bhow (?:many|much|long|often|big|large)\b|\bwhat (?:number|percentage|proportion|share|figure|rate|amount)\b"
    r"|\b(?:number|count|total|budget|figures?|percentage|cost)\b",
    re.I,
)
_WHO_Q = re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:person|people|officer|organisations?|agenc(?:y|ies))\b", re.I)
_WHEN_Q = re.compile(r"\bwhen\b|\bwhat (?:date|year|month|day)\b|\bhow soon\b", re.I)
_LIST_Q = re.compile(
    r"\bwhat (?:are|were)\b|\bwhich\b|\blist\b|\bname the\b|\b(?:priorities|themes|areas|steps|actions|points|"
    r"recommendations|lessons|learn\w*|teach\w*|taught|members|strands|aims|objectives|issues)\b",
    re.I,
)
_DEF_Q = re.compile(
    r"\bstand(?:s)? for\b|\bmean(?:s|ing)?\b|\babbreviation\b|\bacronym\b|\bshort for\b|\bdefin\w+\b"
    r"|^\W*what(?:'s| is| are)\s+(?:an? |the )?[A-Z][A-Za-z&]{1,8}s?\W*$",
    re.I,
)
_ABBREV = re.compile(r"\b[A-Z][A-Z&]{1,7}s?\b")

# Unit forms.
_NUMBER = re.compile(r"(?<![\w.])(?:£\s?)?\d[\d,]*(?:\.\d+)?%?(?![\w])")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_DATE = re.compile(
    r"\b(?:19|20)\d\d\b|\b\d{1,2}(?:st|nd|rd|th)? (?:January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b|\b(?:January|February|March|April|May|June|July|August|September|October|"
    r"November|December) (?:19|20)\d\d\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"
)
# Two capitalised words inside a sentence (not its first word) usually name a person or a body.
_PROPER = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+(?: [A-Z][a-z'-]+)+")
_EXPANSION = re.compile(r"[A-Z][a-z]+(?: (?:[A-Z][a-z]+|and|of|for|the|&))+ \([A-Z][A-Za-z&]{1,8}\)")


@dataclass(frozen=True)
class Asks:
    count: bool
    who: bool
    when: bool
    list: bool
    definition: bool

    @property
    def kinds(self) -> tuple[float, ...]:
        return tuple(float(x) for x in (self.count, self.who, self.when, self.list, self.definition))


def asks(question: str) -> Asks:
    definition = bool(_DEF_Q.search(question)) and bool(_ABBREV.search(question) or "mean" in question.lower())
    return Asks(
        count=bool(_COUNT_Q.search(question)),
        who=bool(_WHO_Q.search(question)),
        when=bool(_WHEN_Q.search(question)),
        list=bool(_LIST_Q.search(question)) and not definition,
        definition=definition,
    )


@dataclass(frozen=True)
class Offers:
    number: bool  # a figure that is not a year
    date: bool
    proper: bool  # a proper name inside the sentence
    expansion: bool  # spells out an abbreviation ("Multi-Agency Safeguarding Hub (MASH)")


def offers(text: str) -> Offers:
    numbers = [m.group(0) for m in _NUMBER.finditer(text)]
    return Offers(
        number=any(not _YEAR.match(n.strip("£% ")) for n in numbers),
        date=bool(_DATE.search(text)),
        proper=bool(_PROPER.search(text)),
        expansion=bool(_EXPANSION.search(text)),
    )


def years_in(text: str) -> set[int]:
    out = set()
    for m in re.finditer(r"\b((?:19|20)\d\d)(?:\s*[/-]\s*(\d{2,4}))?\b", text):
        first = int(m.group(1))
        out.add(first)
        if m.group(2):
            second = m.group(2)
            out.add(int(second) if len(second) == 4 else (first // 100) * 100 + int(second))
    return out
