"""Hybrid retrieval over the committed chunks (assistant.retrieval.retriever), its index and cache
(assistant.retrieval.index), and places in passages (assistant.retrieval.places)."""

from assistant.query.identifiers import ABBREV as _ABBREV
from assistant.query.identifiers import MINUTE_NO as _MINUTE_NO
from assistant.query.identifiers import review_names
from assistant.retrieval.index import _top
from assistant.retrieval.places import learn_places, place_match, places, use_gazetteer
from assistant.retrieval.retriever import Retriever

__all__ = [
    "_ABBREV",
    "_MINUTE_NO",
    "Retriever",
    "_top",
    "learn_places",
    "place_match",
    "places",
    "review_names",
    "use_gazetteer",
]
