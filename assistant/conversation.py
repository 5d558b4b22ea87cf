"""Turn a follow-up ("and what did it teach?", "and child 4?") into a standalone question using the history,
without an LLM.

The subjects a follow-up may swap ("and child 4?", "and what
about Anyshire?") are review names and the places the knowledge folder's places.yaml lists (passed in as `places`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.query.identifiers import review_forms
from core.text import STOPWORDS, words

_FOLLOW_START = re.compile(r"^\s*(?:and|also|what about|how about|so|then|but|ok|okay|same for|and what about)\b", re.I)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|that|this|those|these|he|she|his|her|there|the same)\b", re.I)
PlaceFinder = Callable[[str], list[str]]  # the written forms of the places a text names, in order


def _entities(text: str, places: PlaceFinder | None) -> list[tuple[str, str]]:
    """The subjects a text names, each with its kind: ("review", "Child Z"), ("place", "Anyshire")."""
    found = [("review", f) for f in review_forms(text)]
    return found + [("place", f) for f in (places(text) if places is not None else [])]


def user_turns(history: list) -> list[str]:
    """The user's earlier questions, from [{"role","content"}] turns or plain strings."""
    out = []
    for turn in history or []:
        if isinstance(turn, str):
            out.append(turn)
        elif isinstance(turn, dict):
            if turn.get("role", "user") == "user":
                out.append(str(turn.get("content", "")))
        elif getattr(turn, "role", "user") == "user":
            out.append(str(getattr(turn, "content", "")))
    return [t for t in out if t.strip()]


def is_follow_up(question: str) -> bool:
    content = [w for w in words(question) if w not in STOPWORDS]
    return (
        bool(_FOLLOW_START.match(question))
        or bool(_PRONOUN.search(question))
        and len(content) <= 6
        or len(content) <= 2
    )


def standalone(question: str, history: list, places: PlaceFinder | None = None) -> str:
    """The question rewritten to stand alone, or unchanged when it already does (or there is no history)."""
    previous = user_turns(history)
    if not previous or not is_follow_up(question):
        return question.strip()
    last = previous[-1]
    new_entities = _entities(question, places)
    old_entities = _entities(last, places)
    body = _FOLLOW_START.sub("", question).strip(" ?.,")
    body_content = [w for w in words(body) if w not in STOPWORDS]
    same_kind = [old for old in old_entities if new_entities and old[0] == new_entities[0][0]]
    if same_kind and len(body_content) <= len(words(new_entities[0][1])) + 1:
        # "and child 4?" after "What did the Child Z review teach?": same question, new subject of the same kind.
        return re.sub(re.escape(same_kind[0][1]), new_entities[0][1], last, count=1, flags=re.I)
    if new_entities:
        return f"{question.strip()} ({last.strip()})"
    # "what did it teach?" / "and what was the figure a year earlier?": keep the subject from the last turn.
    return f"{question.strip()} — {last.strip()}"
