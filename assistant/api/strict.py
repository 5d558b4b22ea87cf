"""Request-level rules shared by every route: unknown query parameters are refused, feedback is written only when
it fits on the disk, and the question log is switched on when PKA_LOG_QUESTIONS is.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from assistant.feedback import FeedbackStore
from core.config import Settings
from core.diskspace import ensure_free
from core.errors import PKAError
from core.store_access import write_error

QUESTION_LOGGERS = ("assistant.service",)  # where the redacted question is logged (assistant.service.ask)
_allowed: dict[int, frozenset[str]] = {}


def known_query_only(request: Request) -> None:
    """An app-wide dependency: a query parameter the route does not declare is a 422, like an unknown body field."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = _allowed.get(id(route))
    if allowed is None:
        allowed = frozenset(_query_names(dependant))
        _allowed[id(route)] = allowed
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": f"unknown query parameter (this route takes: {known})", "type": "extra"}
                for name in unknown[:10]
            ]
        )


def _query_names(dependant: Any) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def save_feedback(store: FeedbackStore, body: Any, settings: Settings) -> int:
    """Add one piece of feedback; a full disk or a read-only data folder is a 503 that says so, never a 500."""
    need = len(body.question) + len(body.answer) + len(body.comment or "") + 64 * 1024
    ensure_free(settings.data_dir, need, reserve_mb=settings.min_free_mb, what="save feedback")
    try:
        return store.add(
            question=body.question,
            answer=body.answer,
            citations=body.citations,
            rating=body.rating,
            comment=body.comment,
        )
    except PKAError:
        raise
    except (sqlite3.Error, OSError) as exc:
        raise write_error(exc) from exc


def enable_question_log() -> None:
    """PKA_LOG_QUESTIONS=true: the question loggers emit at INFO even when the root logger says WARNING (the CLI's
    default), through the root's handlers, or a handler of their own when there are none."""
    for name in QUESTION_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not logging.getLogger().handlers and not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
