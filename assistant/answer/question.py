"""What kind of answer a unit offers, read from its form (what a question asks for is read once, into the Query:
assistant.query.kinds). These patterns encode general facts of English ("how many" asks for a count, "who"
for a person or role, "when" for a date, "what does X stand for" for an expansion) and of document typography
(numbers, dates, proper names, list items); nothing in them names a place, document or question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.query.kinds import Asks, asks

__all__ = ["Asks", "Offers", "asks", "offers", "years_in"]  # Asks and asks: re-exported from the one classifier

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
# A contact detail: a UK phone number (0 or +44 and 9-10 more digits), an e-mail address or a web address.
_CONTACT = re.compile(
    r"(?<![\w+])(?:\+\s?44\s?(?:\(0\)\s?)?|\(?0)\d{1,4}\)?(?:[ \-]?\d){6,9}(?!\d)|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"
    r"|\bhttps?://\S+|\bwww\.\S+"
)


@dataclass(frozen=True)
class Offers:
    number: bool  # a figure that is not a year
    date: bool
    proper: bool  # a proper name inside the sentence
    expansion: bool  # spells out an abbreviation ("Multi-Agency Safeguarding Hub (MASH)")
    contact: bool = False  # a phone number, e-mail or web address


def offers(text: str) -> Offers:
    numbers = [m.group(0) for m in _NUMBER.finditer(text)]
    return Offers(
        number=any(not _YEAR.match(n.strip("£% ")) for n in numbers),
        date=bool(_DATE.search(text)),
        proper=bool(_PROPER.search(text)),
        expansion=bool(_EXPANSION.search(text)),
        contact=bool(_CONTACT.search(text)),
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


_YEAR_SPAN = re.compile(
    r"\b(?:[Bb]etween|[Ff]rom)\s+(?:[A-Z][a-z]+\s+)?((?:19|20)\d\d)\s+(?:and|to|until|till)\s+(?:[A-Z][a-z]+\s+)?((?:19|20)\d\d)\b"
)
_PERIOD = re.compile(r"\b((?:19|20)\d\d)(?:\s*[/-]\s*(\d{2,4}))?\b")


def periods_in(text: str) -> set[tuple[int, int]]:
    """The periods a text names, as (first, last) years: "2021" (2021, 2021), "2021/22" (2021, 2022), "2020-23"
    (2020, 2023), "between April 2020 and March 2021" (2020, 2021)."""
    out = set()
    for m in _YEAR_SPAN.finditer(text):
        first, last = int(m.group(1)), int(m.group(2))
        if last >= first:
            out.add((first, last))
    for m in _PERIOD.finditer(_YEAR_SPAN.sub(" ", text)):
        first = int(m.group(1))
        last = first
        if m.group(2):
            second = m.group(2)
            last = int(second) if len(second) == 4 else (first // 100) * 100 + int(second)
        if last >= first:
            out.add((first, last))
    return out


def same_period(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """One period lies within the other: 2021 within 2021/22, 2021/22 within 2020-23. Two different spans that
    merely share a year (2020/21 and 2021/22, consecutive financial or school years) are different periods."""
    return (a[0] >= b[0] and a[1] <= b[1]) or (b[0] >= a[0] and b[1] <= a[1])
