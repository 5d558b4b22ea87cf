"""The typed Query: a question parsed once per request, read by every later stage (retrieval, scoping, the review
index, answers, urgency) instead of each stage parsing the text again.

Collaborators that depend on the store or on
trained models (the places a store's documents come from, the urgent-concern classifier) are passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import assistant.conversation as conversation  # a module, not its name: conversation imports query.identifiers
from assistant.query.identifiers import MINUTE_NO, review_names, years_in
from assistant.query.kinds import Asks, asks, asks_current, kind_of
from core.text import terms


class PlaceNames:
    """What the parser needs to know about places: the written forms a text names, and what each stands for
    (areas and partnerships, by canonical name). The default knows no places."""

    def find_forms(self, text: str) -> list[str]:
        return []

    def find(self, text: str) -> set[str]:
        return set()


@dataclass(frozen=True)
class Query:
    text: str  # as the user typed it
    standalone: str  # rewritten against the history to stand alone (the same text when it already does)
    terms: tuple[str, ...]  # index terms of the standalone question, in order, without repeats
    places: frozenset[str] = frozenset()  # areas and partnerships it names (canonical names)
    place_forms: tuple[str, ...] = ()  # how it wrote them (an abbreviation, a short name)
    years: frozenset[int] = frozenset()
    reviews: frozenset[str] = frozenset()  # normalised review names: "child z", "thematic review"
    numbers: tuple[str, ...] = ()  # minute or section numbers ("17.3")
    kind: str = "fact"  # the shape that leads: count | date | who | definition | procedure | list | fact
    asks: Asks = Asks()  # every shape it asks for (the answer scorer's answer-type flags); kind derives from it
    urgent: bool = False  # describes a live concern about a particular child
    current: bool = False  # asks what is current or in force
    history: tuple[str, ...] = field(default=(), compare=False)

    @property
    def names_place(self) -> bool:
        return bool(self.places)

    def __str__(self) -> str:
        return self.standalone


class QueryParser:
    """Parses a question (with its history) into a Query. `places` says which places and partnerships a text
    names; `urgent` decides whether the message describes a live concern (the service passes its classifier)."""

    def __init__(self, places: PlaceNames | None = None, urgent: Callable[[str], bool] | None = None) -> None:
        self.places = places or PlaceNames()
        self.urgent = urgent or (lambda text: False)

    def parse(self, question: str, history: Sequence[object] | None = None) -> Query:
        history = list(history or [])
        text = conversation.standalone(question, history, places=self.places.find_forms)
        # What the new turn names wins over what the earlier turn folded into the standalone text named: "and is
        # Anyshire doing that?" after a question about Otherton is about Anyshire.
        where = question if self.places.find_forms(question) else text
        shape = asks(text)  # the standalone text: "and how many?" asks for a count of what the history named
        return Query(
            text=question,
            standalone=text,
            terms=tuple(dict.fromkeys(terms(text))),
            places=frozenset(self.places.find(where)),
            place_forms=tuple(self.places.find_forms(where)),
            years=frozenset(years_in(question) or years_in(text)),
            reviews=frozenset(review_names(question) or review_names(text)),
            numbers=tuple(dict.fromkeys(MINUTE_NO.findall(text))),
            kind=kind_of(shape, text),
            asks=shape,
            urgent=bool(self.urgent(question)),
            current=asks_current(text),
        )
