"""Identifiers people type, found the same way in questions and in passages: review names ("Child Z", "Family CC",
"a thematic review"), minute or section numbers ("17.3"), abbreviations ("MASH") and years ("2021/22").
"""

from __future__ import annotations

import re

# "Child Z", "child 4", "Baby F", "Family CC": a review is named by a kin word and a letter or number. The words that
# may follow make the phrase a common noun instead ("child protection", "child in need", "child who ...").
REVIEW_NAME = re.compile(
    r"\b(?:child|family|baby)\s+([a-z]{1,2}|\d{1,3})\b(?!\s*(?:protection|death|sexual|criminal|exploitation|in|"
    r"mental|safeguarding|and|with|who|is|was|are))",
    re.IGNORECASE,
)
THEMATIC = re.compile(r"\bthematic review\b", re.IGNORECASE)
MINUTE_NO = re.compile(r"\b(\d{1,3}\.\d{1,2})\b")
ABBREV = re.compile(r"\b([A-Z][A-Z&]{1,6}s?)\b")
# A year, or a span of years written "2021/22", "2021-2022", "2019-20".
YEAR = re.compile(r"\b((?:19|20)\d\d)(?:\s*[/–-]\s*(\d{2}(?:\d{2})?))?\b")


def review_forms(text: str) -> list[str]:
    """The review names in a text as written ("Child Z", "child 4"), in order."""
    out = []
    lower_only = text == text.lower()
    for m in REVIEW_NAME.finditer(text):
        ident = m.group(1)
        # Reviews are named with a capital letter or a number ("Child Z", "Family CC", "Child 4"): "a family at
        # risk" or "a child as young as" name none. A message typed all in lower case has no capitals to go by,
        # so there a single letter counts ("child z"), except a/i, which are words ("a child a social worker saw").
        if ident.isalpha() and not ident.isupper():
            if not lower_only or len(ident) > 1 or ident in ("a", "i"):
                continue
        if ident == "I":
            continue  # the pronoun is always a capital, so here a capital marks no name ("a child I'm seeing")
        out.append(m.group(0))
    out += [m.group(0) for m in THEMATIC.finditer(text)]
    return out


def review_names(text: str) -> set[str]:
    """Review identifiers in a text, normalised: {'child z', 'child 4', 'thematic review'}."""
    return {" ".join(f.lower().split()) for f in review_forms(text)}


def years_in(text: str) -> set[int]:
    """Every year a text names; a span names both ends ("2021/22" -> {2021, 2022})."""
    years: set[int] = set()
    for m in YEAR.finditer(text):
        first = int(m.group(1))
        years.add(first)
        if m.group(2):
            second = m.group(2)
            end = int(second) if len(second) == 4 else (first // 100) * 100 + int(second)
            if 0 < end - first <= 5:  # "2021/22" is a span; "2010-06" is a date
                years.add(end)
    return years
