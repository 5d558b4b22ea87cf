"""The LLM call's guards: a circuit breaker (pybreaker) and retries within a deadline (tenacity)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pybreaker
import tenacity

log = logging.getLogger(__name__)


class _LogOpening(pybreaker.CircuitBreakerListener):
    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        if new_state is not None and new_state.name == pybreaker.STATE_OPEN:
            log.warning("LLM circuit breaker open for %.0f s", cb.reset_timeout)


def circuit_breaker(failures: int, cooldown_s: float) -> pybreaker.CircuitBreaker:
    """After `failures` failed calls in a row, refuse calls for `cooldown_s`; then let one through (half-open),
    whose failure re-opens it at once and whose success closes it. The call that trips it raises its own error;
    refused calls raise pybreaker.CircuitBreakerError. pybreaker times the cooldown on the wall clock (a clock
    step shifts it by as much), which is fine for a cooldown of seconds."""
    return pybreaker.CircuitBreaker(
        fail_max=failures, reset_timeout=cooldown_s, listeners=[_LogOpening()], throw_new_error_on_trip=False
    )


def retries(
    attempts: int,
    deadline: float,
    *,
    retry_if: Callable[[BaseException], bool],
    on_retry: Callable[[], None] | None = None,
) -> tenacity.Retrying:
    """Call up to `attempts` times while the error is one `retry_if` accepts, starting none in the last 50 ms
    before `deadline` (time.monotonic()); `on_retry` runs before each retry. The last error is raised."""

    def before(state: tenacity.RetryCallState) -> None:
        if state.attempt_number > 1 and on_retry is not None:
            on_retry()

    def after(state: tenacity.RetryCallState) -> None:
        if state.outcome is not None and state.outcome.failed:
            log.warning("LLM call %d failed: %s", state.attempt_number, state.outcome.exception())

    return tenacity.Retrying(
        stop=tenacity.stop_any(
            tenacity.stop_after_attempt(attempts),
            tenacity.stop_after_delay(max(0.0, deadline - 0.05 - time.monotonic())),  # the call's own deadline
        ),
        retry=tenacity.retry_if_exception(retry_if),
        wait=tenacity.wait_none(),
        before=before,
        after=after,
        reraise=True,
    )
