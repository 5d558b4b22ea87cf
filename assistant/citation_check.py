"""Citation enforcement on a model's reply: every sentence is checked against the sources it cites, and only what
passes is kept (the rules: assistant.generate's docstring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.citing import citation
from assistant.llm_prompt import ABSTAIN_PHRASE
from core.text import NUMBER_WORDS, normalise, sentence_spans, terms, words
from core.types import Chunk, Citation, SearchHit

_MARKERS = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
_MARKERS_BEFORE_STOP = re.compile(r"([.!?])((?:\s*\[\d{1,3}(?:\s*[,;]\s*\d{1,3})*\])+)")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+")
_LEAD = re.compile(r"^\s*(?:answer|response)\s*:\s*", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MODAL = re.compile(r"\b(must|should|shall|required to|expected to)\b", re.I)
_COMPARATOR = re.compile(
    r"\b(within|at least|at most|no later than|no more than|no less than|up to|more than|less than|fewer than|"
    r"over|under|above|below)\s+(\d[\d,.]*)",
    re.I,
)
_INJECTION = re.compile(
    r"\b(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions?|rules?|prompt)\b|\bsystem prompt\b|\bHACKED\b", re.I
)
_MIN_TERMS = 2  # a sentence with fewer content words cannot be checked against a passage


@dataclass
class Checked:
    text: str  # the sentence, markers removed
    bullet: bool
    cited: list[int]  # source numbers (1-based) that passed the checks
    dropped: str = ""  # why the sentence was removed, when it was


@dataclass
class Enforced:
    answer: str
    citations: list[Citation]
    kept: int
    total: int
    abstained: bool
    sentences: list[Checked]


def _numbers(text: str) -> set[str]:
    found = {m.group(0).replace(",", "") for m in _NUMBER.finditer(text)}
    found |= {NUMBER_WORDS[w] for w in words(text) if w in NUMBER_WORDS}
    return {n.rstrip(".") for n in found}


def _has_phrase(phrase: list[str], hay: list[str]) -> bool:
    n = len(phrase)
    return any(hay[i : i + n] == phrase for i in range(len(hay) - n + 1))


def _verbatim_problem(sentence: str, passages: list[str]) -> str:
    """Why the sentence's figures or obligations are not as the cited passages write them; '' when they are."""
    text = " ".join(passages)
    missing = _numbers(sentence) - _numbers(text)
    if missing:
        return f"number(s) {', '.join(sorted(missing))} not in the cited source"
    hay = words(normalise(text))
    for m in _MODAL.finditer(sentence):
        following = words(sentence[m.end() :])
        phrase = words(m.group(1)) + following[: 2 if following[:1] == ["not"] else 1]
        if not _has_phrase(phrase, hay):
            return f"'{' '.join(phrase)}' is not in the cited source"
    for m in _COMPARATOR.finditer(sentence):
        phrase = words(m.group(0))
        if not _has_phrase(phrase, hay):
            return f"'{' '.join(phrase)}' is not in the cited source"
    return ""


def _split(reply: str) -> list[tuple[str, bool]]:
    """(sentence with its markers, is a list item) for each sentence or list item of the reply."""
    reply = _LEAD.sub("", reply.strip())
    reply = _MARKERS_BEFORE_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", reply)
    out: list[tuple[str, bool]] = []
    for line in reply.splitlines():
        if not line.strip():
            continue
        bullet = bool(_BULLET.match(line))
        body = _BULLET.sub("", line).strip()
        for s, e in sentence_spans(body):
            out.append((body[s:e], bullet))
    return out


def _is_abstention(text: str) -> bool:
    target = normalise(ABSTAIN_PHRASE).rstrip(".")
    return target in normalise(text)


def enforce(reply: str, hits: list[SearchHit], *, min_overlap: float = 0.5) -> Enforced:
    """Check every sentence of the model's reply against the sources it cites; keep only what passes."""
    chunks = [h.chunk for h in hits]
    k = len(chunks)
    passage_terms = [set(terms(c.text)) for c in chunks]
    checked: list[Checked] = []
    abstained = False
    for raw, bullet in _split(reply):
        bare = re.sub(r"\s+([.,;:!?])", r"\1", _MARKERS.sub("", raw)).strip()
        if _is_abstention(bare):
            abstained = True
            continue
        if not re.search(r"\w", bare):
            continue
        cited = []
        for group in _MARKERS.findall(raw):
            cited += [int(x) for x in re.split(r"\s*[,;]\s*", group)]
        cited = list(dict.fromkeys(n for n in cited if 1 <= n <= k))
        item = Checked(text=bare, bullet=bullet, cited=[])
        checked.append(item)
        if _INJECTION.search(bare):
            item.dropped = "repeats an instruction aimed at the assistant"
            continue
        mine = set(terms(bare))
        if len(mine) < _MIN_TERMS:
            item.dropped = "too short to check against a source"
            continue
        if not cited:
            item.dropped = "no valid citation"
            continue
        support = [n for n in cited if len(mine & passage_terms[n - 1]) / len(mine) >= min_overlap]
        if not support:
            item.dropped = "its citations do not share its content"
            continue
        problem = _verbatim_problem(bare, [chunks[n - 1].text for n in support])
        if problem:
            item.dropped = problem
            continue
        item.cited = support
    kept = [c for c in checked if not c.dropped]
    answer, citations = _render(kept, chunks)
    # Lines too short to carry a claim ("Answer:", "Sorry.") are dropped but not counted against the reply.
    substantive = [c for c in checked if len(set(terms(c.text))) >= _MIN_TERMS]
    return Enforced(
        answer=answer,
        citations=citations,
        kept=len(kept),
        total=len(substantive),
        abstained=abstained and not kept,
        sentences=checked,
    )


def _render(kept: list[Checked], chunks: list[Chunk]) -> tuple[str, list[Citation]]:
    numbers: dict[int, int] = {}  # source number -> citation number, in order of first use
    uses: dict[int, list[str]] = {}
    lines = []
    for item in kept:
        marks = []
        for n in item.cited:
            if n not in numbers:
                numbers[n] = len(numbers) + 1
            uses.setdefault(n, []).append(item.text)
            marks.append(f"[{numbers[n]}]")
        body = item.text
        lines.append(f"{'- ' if item.bullet else ''}{body} {''.join(marks)}")
    citations = [_citation(numbers[n], chunks[n - 1], uses[n]) for n in numbers]
    return "\n".join(lines), citations


def _citation(n: int, chunk: Chunk, sentences: list[str]) -> Citation:
    """The passage, quoting the sentence(s) of it that best match the answer sentences citing it."""
    spans = sentence_spans(chunk.text, base=chunk.start) or [(chunk.start, chunk.end)]
    chosen: list[tuple[int, int]] = []
    for sentence in sentences:
        want = set(terms(sentence))
        best = max(spans, key=lambda sp: len(want & set(terms(chunk.text[sp[0] - chunk.start : sp[1] - chunk.start]))))
        if best not in chosen:
            chosen.append(best)
    chosen.sort()
    quote = " … ".join(chunk.text[s - chunk.start : e - chunk.start] for s, e in chosen)
    return citation(chunk, n=n, quote=quote, start=chosen[0][0], end=chosen[-1][1])
