"""The model behind generative answers: a streaming call to any OpenAI-compatible chat endpoint (LangChain's
ChatOpenAI, imported when a model is configured), (its circuit breaker and retries are in assistant.llm_guard).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from core.config import Settings

log = logging.getLogger(__name__)

OnToken = Callable[[str], None]
RESET = "\x00reset"  # passed to on_token when a retry starts: the text streamed so far is void


class LLMFailure(Exception):
    """The model call failed; `code` is a key of REASONS."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


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
