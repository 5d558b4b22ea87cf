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

The parts: the model (assistant.chat_model), its circuit breaker and retries (assistant.llm_guard), the
prompt (assistant.llm_prompt), the checks (assistant.citation_check); here, the Generator that joins them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Literal

import pybreaker

from assistant.chat_model import RESET, ChatModel, LLMFailure, OnToken
from assistant.citation_check import Checked, Enforced, enforce
from assistant.compose import Composition
from assistant.llm_guard import circuit_breaker, retries
from assistant.llm_prompt import ABSTAIN_PHRASE, build_prompt, format_sources, load_prompt
from core.config import Settings
from core.contracts import FALLBACK_REASONS
from core.types import SearchHit

__all__ = [  # the names callers import from here
    "ABSTAIN_PHRASE",
    "REASONS",
    "RESET",
    "ChatModel",
    "Checked",
    "Enforced",
    "Generator",
    "LLMFailure",
    "OnToken",
    "Outcome",
    "build_generator",
    "build_prompt",
    "enforce",
    "format_sources",
    "load_prompt",
]

log = logging.getLogger(__name__)

REASONS = FALLBACK_REASONS  # the codes and their words live in core.contracts: the UI shows them too


@dataclass
class Outcome:
    """What ask() shows: a Composition, whether the model wrote it, and why not when it did not."""

    result: Composition
    mode: Literal["extractive", "generative"]
    fallback_reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    draft: str = ""  # the model's raw reply (for evals and debugging; never shown as an answer)


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
