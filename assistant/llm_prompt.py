"""The prompt a model is given: the question and the top passages as numbered, fenced sources (templates in
assistant/prompts/*.txt), with the one phrase it must use when the sources do not answer.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.types import Chunk

PROMPTS = Path(__file__).parent / "prompts"
ABSTAIN_PHRASE = "The sources do not answer this question."
_SOURCE_TAG = re.compile(r"</?\s*source\b", re.I)


def load_prompt(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


def format_sources(chunks: list[Chunk]) -> str:
    """Numbered sources; document text is fenced as data and cannot close its own fence."""
    blocks = []
    for n, c in enumerate(chunks, start=1):
        where = " › ".join(p for p in (c.title, c.section) if p)
        body = _SOURCE_TAG.sub("(source)", c.text.strip())
        label = _SOURCE_TAG.sub("(source)", where).replace('"', "'")
        blocks.append(f'<source n="{n}" from="{label}">\n{body}\n</source>')
    return "\n\n".join(blocks)


def build_prompt(question: str, standalone: str, chunks: list[Chunk]) -> tuple[str, str]:
    system = load_prompt("answer_system.txt").format(abstain=ABSTAIN_PHRASE)
    rewrite = f"(As a standalone question: {standalone})\n" if standalone.strip() != question.strip() else ""
    user = load_prompt("answer_user.txt").format(
        sources=format_sources(chunks), question=question.strip(), rewrite=rewrite, abstain=ABSTAIN_PHRASE
    )
    return system, user
