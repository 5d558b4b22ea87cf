"""Generative answers through any OpenAI-compatible chat model, with every citation checked before it is shown.

The extractive answer (assistant.compose) stays the default and the fallback. When PKA_LLM_BASE_URL is set, the
Generator gives the model the top retrieved passages as numbered sources [1]..[k] (prompt in
assistant/prompts/*.txt), lets it write, then enforces citations on what it wrote:

* a marker outside 1..k is dropped;
* a cited passage must share content words with its sentence (core.text.terms, PKA_LLM_MIN_OVERLAP), else the
  marker is dropped; a sentence left with no marker is removed;
* verbatim: every number in a sentence must appear in a passage it cites (exactly), and every "must/should/shall"
  statement and threshold ("within 24", "at least 3") must be written the same way there, else the sentence goes;
* a sentence that echoes an instruction aimed at the assistant ("ignore previous instructions") goes.

If less than PKA_LLM_MIN_KEPT of the sentences survive, or the model is slow, down, returns garbage or nothing, or
the circuit breaker is open, the extractive answer is given and `fallback_reason` says why (a code from REASONS).

Abstention. An extractive abstention stands and the model is not asked (unless PKA_LLM_ANSWER_UNANSWERED): its
checks (a figure asked for and none given, another period, no one named) are the traps a model falls into. When the
model abstains with the fixed phrase but the extractive path answers, the extractive answer is shown: it quotes the
sources word for word, so it is checkable, and a small model's abstention is more often a miss than a finding. The
model's abstention is trusted only when the extractive path abstains too.

Imports: stdlib, core, assistant.compose (Composition), assistant.llm_guard, pybreaker, langchain-openai (lazily,
when a model is configured).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pybreaker

from assistant.citing import citation
from assistant.compose import Composition
from assistant.llm_guard import circuit_breaker, retries
from core.config import Settings
from core.contracts import FALLBACK_REASONS
from core.text import NUMBER_WORDS, normalise, sentence_spans, terms, words
from core.types import Chunk, Citation, SearchHit

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).parent / "prompts"
ABSTAIN_PHRASE = "The sources do not answer this question."

REASONS = FALLBACK_REASONS  # the codes and their words live in core.contracts: the UI shows them too

OnToken = Callable[[str], None]
RESET = "\x00reset"  # passed to on_token when a retry starts: the text streamed so far is void

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
_SOURCE_TAG = re.compile(r"</?\s*source\b", re.I)
_MIN_TERMS = 2  # a sentence with fewer content words cannot be checked against a passage


class LLMFailure(Exception):
    """The model call failed; `code` is a key of REASONS."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass
class Outcome:
    """What ask() shows: a Composition, whether the model wrote it, and why not when it did not."""

    result: Composition
    mode: Literal["extractive", "generative"]
    fallback_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    draft: str = ""  # the model's raw reply (for evals and debugging; never shown as an answer)


# ---- the model -------------------------------------------------------------------------------------------------


class ChatModel:
    """A streaming chat call to an OpenAI-compatible endpoint through LangChain's ChatOpenAI."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        self.llm = ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=0,  # retries are ours, within the deadline
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
            streaming=True,
            stream_usage=False,
        )

    def stream(self, system: str, user: str, *, deadline: float, on_token: OnToken | None) -> str:
        """The model's whole reply; each piece goes to on_token as it arrives. Raises LLMFailure."""
        from langchain_core.messages import HumanMessage, SystemMessage

        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LLMFailure("llm_timeout")
        parts: list[str] = []
        stream = self.llm.stream([SystemMessage(system), HumanMessage(user)], timeout=remaining)
        try:
            for chunk in stream:
                text = _content_text(chunk.content)
                if text:
                    parts.append(text)
                    if on_token is not None:
                        on_token(text)
                if time.monotonic() > deadline:
                    raise LLMFailure("llm_timeout", "the reply was still streaming at the deadline")
        except LLMFailure:
            raise
        except Exception as exc:  # openai/httpx raise many types; every one means "no usable reply"
            name = type(exc).__name__
            code = "llm_timeout" if "Timeout" in name or time.monotonic() > deadline else "llm_error"
            raise LLMFailure(code, f"{name}: {str(exc)[:200]}") from exc
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        return "".join(parts)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return ""


# ---- prompt ----------------------------------------------------------------------------------------------------


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


# ---- citation enforcement --------------------------------------------------------------------------------------


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


# ---- the generator ---------------------------------------------------------------------------------------------


class Generator:
    """Writes an answer with the model, or says why the extractive one stands."""

    def __init__(self, settings: Settings, *, model: ChatModel | None = None) -> None:
        self.settings = settings
        self.model = model or ChatModel(settings)
        self.breaker = circuit_breaker(settings.llm_breaker_failures, settings.llm_breaker_cooldown_s)

    def answer(
        self,
        *,
        question: str,
        standalone: str,
        hits: list[SearchHit],
        extractive: Composition,
        on_token: OnToken | None = None,
    ) -> Outcome:
        s = self.settings
        if extractive.abstained and not s.llm_answer_unanswered:
            return Outcome(extractive, "extractive", "extractive_abstained")
        if not hits:
            return Outcome(extractive, "extractive", "extractive_abstained")
        sources = hits[: s.llm_sources]
        system, user = build_prompt(question, standalone, [h.chunk for h in sources])
        t0 = time.perf_counter()
        deadline = time.monotonic() + s.llm_timeout_s

        def reply_once() -> str:
            reply = self.model.stream(system, user, deadline=deadline, on_token=on_token)
            if not reply.strip():
                raise LLMFailure("llm_empty")
            return reply

        try:
            attempts = retries(
                s.llm_retries + 1,
                deadline,
                retry_if=lambda exc: isinstance(exc, LLMFailure) and exc.code != "llm_timeout",
                on_retry=None if on_token is None else lambda: on_token(RESET),  # what was streamed is void
            )
            reply = self.breaker.call(attempts, reply_once)
        except pybreaker.CircuitBreakerError:
            return Outcome(extractive, "extractive", "circuit_open")
        except LLMFailure as exc:
            timings = {"generate": round((time.perf_counter() - t0) * 1000, 2)}
            return Outcome(extractive, "extractive", exc.code, timings)
        t1 = time.perf_counter()
        timings = {"generate": round((t1 - t0) * 1000, 2)}
        checked = enforce(reply, sources, min_overlap=s.llm_min_overlap)
        timings["enforce"] = round((time.perf_counter() - t1) * 1000, 2)
        dropped = [c for c in checked.sentences if c.dropped]
        if dropped:
            log.info("citation checks dropped %d of %d sentences", len(dropped), checked.total)
        if checked.abstained:
            if extractive.abstained:
                return Outcome(extractive, "generative", None, timings, reply)
            return Outcome(extractive, "extractive", "llm_abstained", timings, reply)
        if not checked.kept or checked.kept < s.llm_min_kept * checked.total:
            return Outcome(extractive, "extractive", "citations_failed", timings, reply)
        result = Composition(answer=checked.answer, abstained=False, citations=checked.citations, kind="generative")
        return Outcome(result, "generative", None, timings, reply)


def build_generator(settings: Settings) -> Generator | None:
    """A Generator when PKA_LLM_BASE_URL is set, else None (extractive answers only)."""
    if not settings.llm_base_url.strip():
        return None
    return Generator(settings)
