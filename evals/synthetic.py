"""Realistic synthetic partnership documents for distractor and scale tests: real sentence structure from the
knowledge base, with other partnerships' names, places, review names, dates and figures.

Deterministic for a given seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from core.text import sentence_spans

PLACES = [
    "Northshire",
    "Westmere",
    "Eastbrook",
    "Southvale",
    "Kingsford",
    "Ashdown",
    "Highmoor",
    "Lowfield",
    "Marlbury",
    "Stonebridge",
    "Fairhaven",
    "Redcliffe",
    "Oakham Vale",
    "Brackenridge",
    "Thornbury",
    "Greywater",
]
FIRST = ["Amira", "Ben", "Chloe", "Dev", "Erin", "Farid", "Grace", "Hamza", "Isla", "Jon", "Kerry", "Liam", "Maya"]
LAST = ["Patel", "Okafor", "Nowak", "Hughes", "Clarke", "Begum", "Walsh", "Reid", "Foster", "Kaur", "Doyle"]
_REAL_PLACES = re.compile(
    r"\b(?:East Sussex|West Sussex|Pan[- ]Sussex|Sussex|Surrey|Rotherham|Essex|Brighton(?: & Hove)?)\b"
)
_REAL_ACRONYMS = re.compile(r"\b(?:ESSCP|SSCP|RSCP|ESCB|ESCC|SCC|RMBC|SYP)\b")
_REVIEW = re.compile(r"\b(Child|Family) ([A-Z]{1,2}|\d{1,2})\b")
_NUMBER = re.compile(r"\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b")
_YEAR = re.compile(r"\b20[0-3]\d\b")
_NAME = re.compile(
    r"\b(?:Laura Gough|Simon Hart|Chris Robson|Paul Bailey|Chris Edwards|Naomi Ellis|Alison Jeffery|Jon Hull|"
    r"Graham Redgwell)\b"
)
_HEADINGS = ["Learning", "Governance", "Training", "Assurance", "Priorities", "Context", "Reviews", "Impact"]


@dataclass(frozen=True)
class SyntheticDoc:
    name: str
    text: str


def _sentences(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        for s, e in sentence_spans(text):
            sentence = text[s:e].strip()
            if 40 <= len(sentence) <= 400:
                out.append(sentence)
    return out


def _rewrite(sentence: str, rng: random.Random, place: str, acronym: str) -> str:
    sentence = _REAL_PLACES.sub(place, sentence)
    sentence = _REAL_ACRONYMS.sub(acronym, sentence)
    sentence = _NAME.sub(lambda m: f"{rng.choice(FIRST)} {rng.choice(LAST)}", sentence)
    sentence = _REVIEW.sub(
        lambda m: f"{m.group(1)} {rng.choice('BCDEFGHJKLMNPQRSTUV')}{rng.choice(['', str(rng.randint(1, 9))])}",
        sentence,
    )
    sentence = _YEAR.sub(lambda m: str(int(m.group(0)) + rng.choice([-3, -2, 2, 3])), sentence)

    def number(m: re.Match[str]) -> str:
        raw = m.group(0).replace(",", "")
        value = float(raw)
        new = max(1, round(value * rng.uniform(0.4, 1.9)))
        return f"{new:,}" if "," in m.group(0) else str(new)

    return _NUMBER.sub(number, sentence)


class _Markov:
    """A word-trigram model of the source text: new sentences in its vocabulary and phrasing, copying none."""

    def __init__(self, sentences: list[str]) -> None:
        self.next: dict[tuple[str, str], list[str]] = {}
        self.starts: list[tuple[str, str]] = []
        for sentence in sentences:
            toks = sentence.split()
            if len(toks) < 4:
                continue
            self.starts.append((toks[0], toks[1]))
            for a, b, c in zip(toks, toks[1:], toks[2:] + ["<end>"], strict=False):
                self.next.setdefault((a, b), []).append(c)

    def sentence(self, rng: random.Random, max_words: int = 40) -> str:
        a, b = rng.choice(self.starts)
        out = [a, b]
        while len(out) < max_words:
            c = rng.choice(self.next.get((a, b), ["<end>"]))
            if c == "<end>":
                break
            out.append(c)
            a, b = b, c
        return " ".join(out)


def generate(
    source_texts: list[str], *, n_docs: int, seed: int = 7, sections: int = 8, mode: str = "markov"
) -> Iterator[SyntheticDoc]:
    """Yield `n_docs` documents of numbered sections and minute-style items, each from another partnership.

    Args:
        mode: "markov" writes new sentences from a trigram model of the sources (realistic distractors);
            "recycle" reuses whole source sentences with names, places and figures changed (near-duplicates of
            the real passages: an adversarial test, and realistic bulk for benchmarks).
    """
    rng = random.Random(seed)
    pool = _sentences(source_texts)
    if not pool:
        raise ValueError("no source sentences to build synthetic documents from")
    if mode == "markov":
        model = _Markov(pool)
        pick = lambda: model.sentence(rng)  # noqa: E731 - a one-line chooser reads best here
    else:
        pick = lambda: rng.choice(pool)  # noqa: E731
    for i in range(n_docs):
        place = PLACES[i % len(PLACES)] + ("" if i < len(PLACES) else f" {i // len(PLACES) + 1}")
        acronym = "".join(w[0] for w in place.split()).upper() + "SCP"
        year = rng.randint(2015, 2024)
        kind = rng.choice(["Annual Report", "Board minutes", "Learning briefing", "Scrutiny committee minutes"])
        lines = [f"# {place} Safeguarding Children Partnership ({acronym}) {kind} {year}/{(year + 1) % 100:02d}", ""]
        for sec in range(1, sections + 1):
            lines.append(f"{sec}. {rng.choice(_HEADINGS)} {sec}")
            lines.append("")
            for item in range(1, rng.randint(3, 6)):
                body = " ".join(_rewrite(pick(), rng, place, acronym) for _ in range(rng.randint(2, 4)))
                lines.append(f"{sec}.{item} {body}")
            lines.append("")
        yield SyntheticDoc(name=f"synthetic_{i:04d}_{place.lower().replace(' ', '_')}.md", text="\n".join(lines))
