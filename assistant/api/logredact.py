"""Keep secrets out of the access log: the value of every query parameter is written as `***`.

A key sent as `?api_key=...` (or `?token=`, or anything else) would otherwise be written
to uvicorn's access log in clear; so would a question sent in a query string (personal data, which is logged only
redacted and only with PKA_LOG_QUESTIONS). Parameter names stay, so the log still shows what was asked for.
`pka serve` passes log_config() to uvicorn, which attaches RedactQueryFilter to every handler it logs through.
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "***"


def redact_target(target: str) -> str:
    """`/search?q=x&api_key=s` -> `/search?q=***&api_key=***`; a target without a query string is returned as is."""
    if "?" not in target:
        return target
    parts = urlsplit(target)
    pairs = [p.split("=", 1)[0] + "=" + MASK if "=" in p else p for p in parts.query.split("&")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(pairs), parts.fragment))


class RedactQueryFilter(logging.Filter):
    """Rewrite every string argument (and the message itself) that holds a request target with a query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_any(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redact_any(v) for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = _redact_words(record.msg)
        return True


def _redact_any(value: Any) -> Any:
    return _redact_words(value) if isinstance(value, str) else value


def _redact_words(text: str) -> str:
    if "?" not in text or "=" not in text:
        return text
    return " ".join(redact_target(w) if "?" in w and "=" in w else w for w in text.split(" "))


def log_config() -> dict[str, Any]:
    """uvicorn's logging config with RedactQueryFilter on each handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": f"{__name__}.RedactQueryFilter"}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append("redact_query")
    return config
