"""Feedback on answers: one SQLite table in the data folder, with a retention period.

Each call opens its own connection, so the store is safe to use from the API's threads.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FILENAME = "feedback.sqlite3"
COLUMNS = ("id", "created_at", "rating", "question", "answer", "citations", "comment")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at);
"""


def _stamp(moment: datetime) -> str:
    # One fixed format in UTC, so text order is time order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class FeedbackStore:
    def __init__(self, path: Path, *, retention_days: int | None = 365) -> None:
        self.path = Path(path)
        self.retention_days = retention_days

    @classmethod
    def in_folder(cls, data_dir: Path, *, retention_days: int | None = 365) -> FeedbackStore:
        return cls(Path(data_dir) / FILENAME, retention_days=retention_days)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.executescript(_SCHEMA)
            with conn:  # one transaction, committed on success
                yield conn
        finally:
            conn.close()

    def add(
        self,
        *,
        question: str,
        answer: str,
        citations: Iterable[str],
        rating: str,
        comment: str = "",
        now: datetime | None = None,
    ) -> int:
        """Store one piece of feedback; rows past the retention period are deleted in the same transaction."""
        if rating not in ("up", "down"):
            raise ValueError("rating must be 'up' or 'down'")
        now = now or datetime.now(UTC)
        with self._connect() as conn:
            if self.retention_days:
                conn.execute(
                    "DELETE FROM feedback WHERE created_at < ?", (_stamp(now - timedelta(self.retention_days)),)
                )
            cur = conn.execute(
                "INSERT INTO feedback (created_at, rating, question, answer, citations, comment) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (_stamp(now), rating, question, answer, json.dumps(list(citations)), comment),
            )
            return int(cur.lastrowid or 0)

    def delete_older_than(self, days: float, *, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        with self._connect() as conn:
            return conn.execute("DELETE FROM feedback WHERE created_at < ?", (_stamp(now - timedelta(days)),)).rowcount

    def delete_all(self) -> int:
        with self._connect() as conn:
            return conn.execute("DELETE FROM feedback").rowcount

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._connect() as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
            out = [dict(zip(COLUMNS, row, strict=True)) for row in cur.fetchall()]
        for row in out:
            row["citations"] = json.loads(row["citations"])
        return out


def to_jsonl(rows: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def to_csv(rows: Iterable[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: _cell(v) for k, v in {**r, "citations": " ".join(r["citations"])}.items()})
    return buf.getvalue()


def _cell(value: Any) -> Any:
    """Defuse spreadsheet formulas in free text (CSV injection): a leading = + - @ gets a quote mark."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
