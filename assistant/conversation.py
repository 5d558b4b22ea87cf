"""Turn a follow-up ("and what did it teach?", "and child 4?") into a standalone question using the history,
without an LLM.

Imports: stdlib, core.
"""

from __future__ import annotations

import re

from core.text import STOPWORDS, words

_FOLLOW_START = re.compile(r"^\s*(?:and|also|what about|how about|so|then|but|ok|okay|same for|and what about)\b", re.I)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|that|this|those|these|he|she|his|her|there|the same)\b", re.I)
_ENTITY = re.compile(
    r"\b(?:(?:child|family|baby)\s+(?:[a-z]{1,2}|\d{1,3})\b|thematic review|east sussex|west sussex|surrey|"
    r"rotherham|essex|sussex|brighton)",
    re.I,
)


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


def standalone(question: str, history: list) -> str:
    """The question rewritten to stand alone, or unchanged when it already does (or there is no history)."""
    previous = user_turns(history)
    if not previous or not is_follow_up(question):
        return question.strip()
    last = previous[-1]
    new_entities = _ENTITY.findall(question)
    old_entities = _ENTITY.findall(last)
    body = _FOLLOW_START.sub("", question).strip(" ?.,")
    body_content = [w for w in words(body) if w not in STOPWORDS]
    if new_entities and old_entities and len(body_content) <= len(words(new_entities[0])) + 1:
        # "and child 4?" after "What did the Child Z review teach?": same question, new subject.
        return re.sub(re.escape(old_entities[0]), new_entities[0], last, count=1, flags=re.I)
    if new_entities:
        return f"{question.strip()} ({last.strip()})"
    # "what did it teach?" / "and what was the figure a year earlier?": keep the subject from the last turn.
    return f"{question.strip()} — {last.strip()}"
