"""Places in passages and questions for the retrieval boosts and the answer checks, from the deployment's
gazetteer (knowledge/places.yaml, core.places) plus the places that partnership names start with.

The gazetteer in use is set once per process by the service (use_gazetteer); until then
only the places learned from the store's partnership names are known.
"""

from __future__ import annotations

from functools import lru_cache

from core.places import Gazetteer, partnership_place

_current = Gazetteer()


def use_gazetteer(gazetteer: Gazetteer) -> None:
    """Make `gazetteer` (a copy) the one places() reads."""
    global _current
    _current = gazetteer.copy()
    _cached.cache_clear()


def gazetteer() -> Gazetteer:
    return _current


def learn_places(partnerships: set[str]) -> None:
    """Add the places that partnership names start with ("Testshire Safeguarding Children Partnership")."""
    added = False
    for name in partnerships:
        place = partnership_place(name)
        # only for a partnership whose name holds no known place ("Rochdale Borough ..." is Rochdale's)
        if place and place not in _current.forms and not _current.find(name):
            _current.add(place)
            added = True
    if added:
        _cached.cache_clear()


@lru_cache(maxsize=4096)
def _cached(text: str) -> frozenset[str]:
    return frozenset(_current.find(text))


def places(text: str) -> set[str]:
    """The areas a text names, by canonical name ("West Vale", not also "Vale")."""
    return set(_cached(text))


def place_match(wanted: set[str], have: set[str]) -> bool:
    """Whether a document about `have` places is about any `wanted` place: a county covers the places it contains."""
    return any(wanted & _current.ancestors(h) for h in have)
