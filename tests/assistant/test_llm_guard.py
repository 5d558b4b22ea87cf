"""The LLM call's guards (assistant/llm_guard.py): retries within a deadline, and the circuit breaker."""

from __future__ import annotations

import time

import pybreaker
import pytest

from assistant.llm_guard import circuit_breaker, retries


class Flaky:
    def __init__(self, errors: list[Exception]) -> None:
        self.errors, self.calls = errors, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_retries_until_success_announcing_each_retry() -> None:
    announced: list[int] = []
    flaky = Flaky([ValueError("a"), ValueError("b")])
    attempts = retries(3, time.monotonic() + 60, retry_if=lambda e: True, on_retry=lambda: announced.append(1))
    assert attempts(flaky) == "ok" and flaky.calls == 3 and len(announced) == 2


def test_the_last_error_is_raised_and_unaccepted_errors_are_not_retried() -> None:
    flaky = Flaky([ValueError("a"), ValueError("b"), ValueError("c")])
    with pytest.raises(ValueError, match="b"):
        retries(2, time.monotonic() + 60, retry_if=lambda e: True)(flaky)
    other = Flaky([KeyError("k"), KeyError("k")])
    with pytest.raises(KeyError):
        retries(5, time.monotonic() + 60, retry_if=lambda e: isinstance(e, ValueError))(other)
    assert other.calls == 1


def test_no_retry_starts_past_the_deadline() -> None:
    flaky = Flaky([ValueError("a"), ValueError("b")])
    with pytest.raises(ValueError):
        retries(5, time.monotonic() - 1, retry_if=lambda e: True)(flaky)
    assert flaky.calls == 1


def test_the_breaker_trips_with_the_callers_error_then_refuses() -> None:
    breaker = circuit_breaker(2, 60)
    for _ in range(2):
        with pytest.raises(ValueError):  # the tripping call raises its own error, not the breaker's
            breaker.call(Flaky([ValueError("down")]))
    never = Flaky([])
    with pytest.raises(pybreaker.CircuitBreakerError):
        breaker.call(never)
    assert never.calls == 0
