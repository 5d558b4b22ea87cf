"""Whether the knowledge base holds anything for what a question names: a place or partnership, a year, a review.
When it holds nothing, the answer says so plainly and says what it does hold; such an answer is an abstention.

Wording from knowledge/signposting.yaml (`scope:`), through assistant.scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from assistant.compose import Composition
from assistant.query import Query
from assistant.scope import PlaceIndex, Scope, describe_years

# A review name the index may hold only in lower case ("a thematic review") is not checked: only names of a
# kin word and a letter or number are names of one review.
_UNCHECKED_REVIEWS = {"thematic review"}


@dataclass
class Holdings:
    """What the store can say about itself, from the retrieval index (passed in, so this module reads no store)."""

    places: PlaceIndex
    docs_with_review: Callable[[str], set[str]]  # review name -> documents that name it
    mentions_year: Callable[[set[int], frozenset[str] | None], bool]  # does any passage (of these documents) say it
    reviews_named: Callable[[frozenset[str] | None], list[str]]  # review labels the documents name
    on_subject: Callable[[Query], list[str]]  # ids of the documents that best match the question, in any place


def not_held(query: Query, scope: Scope, held: Holdings, wording: dict[str, str]) -> Composition | None:
    """An abstention saying what the knowledge base does not hold, or None when it may hold the answer."""
    places = held.places
    if scope.scoped and not scope.doc_ids:
        lines = [wording["no_documents_from"].format(place=_join(scope.missing))]
        near = held.on_subject(query)
        if near:
            lines.append(wording["holds_on_subject"].format(sources=places.sources(near)))
        else:
            lines.append(wording["holds"].format(sources=places.sources(places.docs)))
        return _abstain(lines)
    pool = scope.doc_ids if scope.scoped else None
    where = f" from {_join(places.label(n) if n in places.partnerships else n for n in scope.named)}" if pool else ""
    wanted = set(query.reviews) - _UNCHECKED_REVIEWS
    if wanted and not any(held.docs_with_review(r) & (pool or set(places.docs)) for r in wanted):
        review = _join(sorted(_title(r) for r in wanted))
        lines = [wording["no_review"].format(review=review, where=where)]
        names = held.reviews_named(pool)
        if names:
            lines.append(wording["reviews_held"].format(reviews="; ".join(names[:10]), where=where))
        return _abstain(lines)
    if query.years:
        docs = [places.docs[d] for d in (pool or places.docs)]
        dated = [d for d in docs if d.years]
        if dated and len(dated) == len(docs) and not any(query.years & d.years for d in dated):
            if not held.mentions_year(set(query.years), pool):
                lines = [wording["no_documents_for_year"].format(where=where, years=describe_years(query.years))]
                have = sorted({y for d in dated for y in d.years})
                lines.append(wording["holds_years"].format(where=where, years=_year_spans(have)))
                return _abstain(lines)
    return None


def partly_missing_note(scope: Scope, places: PlaceIndex, wording: dict[str, str]) -> str:
    """For a question naming places of which some have documents and some none: a line saying which."""
    if not (scope.missing and scope.doc_ids):
        return ""
    return wording["partly_missing"].format(place=_join(scope.missing), sources=places.sources(scope.doc_ids))


def _abstain(lines: list[str]) -> Composition:
    return Composition(answer=" ".join(lines), abstained=True, citations=[], kind="not_held")


def _title(review: str) -> str:
    kin, _, ident = review.partition(" ")
    return f"{kin.capitalize()} {ident.upper() if ident.isalpha() else ident}"


def _join(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1] if items else ""


def _year_spans(years: list[int]) -> str:
    """'2009-2010, 2021-2023' from a sorted list of years."""
    spans: list[list[int]] = []
    for y in years:
        if spans and y == spans[-1][1] + 1:
            spans[-1][1] = y
        else:
            spans.append([y, y])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans)
