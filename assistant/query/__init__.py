"""The question, parsed once per request into a typed Query that every later stage reads."""

from assistant.query.identifiers import review_forms, review_names, years_in
from assistant.query.kinds import question_kind
from assistant.query.parse import PlaceNames, Query, QueryParser

__all__ = ["PlaceNames", "Query", "QueryParser", "question_kind", "review_forms", "review_names", "years_in"]
