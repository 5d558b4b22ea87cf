"""Feedback: the SQLite store and its retention, POST /feedback and the admin export through a real server, and
the `pka feedback` commands."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from assistant.feedback import FeedbackStore, to_csv, to_jsonl
from tests.servers import api_server, ingested_fixture_corpus, run_cli

FIXTURES = Path(__file__).parents[1] / "fixtures" / "knowledge"
ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def _add(store: FeedbackStore, when: datetime, question: str = "q") -> int:
    return store.add(question=question, answer="a [1]", citations=["c1", "c2"], rating="up", comment="", now=when)


def test_store_creates_its_table_on_first_use_and_round_trips(tmp_path: Path) -> None:
    store = FeedbackStore.in_folder(tmp_path / "data")
    assert store.rows() == [] and not store.path.exists()
    first = store.add(question="Who chairs?", answer="The chair [1]", citations=["abc"], rating="down", comment="x")
    second = _add(store, NOW)
    assert store.path == tmp_path / "data" / "feedback.sqlite3" and second == first + 1
    rows = store.rows()
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["question"] == "Who chairs?" and rows[0]["citations"] == ["abc"] and rows[0]["rating"] == "down"
    assert rows[0]["comment"] == "x" and rows[0]["created_at"].endswith("Z")
    with sqlite3.connect(store.path) as conn:  # a real SQLite file with one table
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert "feedback" in tables


def test_store_refuses_a_bad_rating(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rating"):
        FeedbackStore(tmp_path / "f.sqlite3").add(question="q", answer="a", citations=[], rating="meh")


def test_old_rows_are_deleted_on_write(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3", retention_days=30)
    _add(store, NOW - timedelta(days=40), "old")
    _add(store, NOW - timedelta(days=20), "recent")
    assert [r["question"] for r in store.rows()] == ["old", "recent"]  # nothing purged before this write
    _add(store, NOW, "new")
    assert [r["question"] for r in store.rows()] == ["recent", "new"]


def test_delete_older_than_and_all(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3", retention_days=None)
    for days in (400, 100, 1):
        _add(store, NOW - timedelta(days=days), f"{days}")
    assert store.delete_older_than(365, now=NOW) == 1
    assert store.delete_older_than(50, now=NOW) == 1
    assert [r["question"] for r in store.rows()] == ["1"]
    assert store.delete_all() == 1 and store.rows() == []


def test_exports_and_csv_formulas_are_defused(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.add(question='=HYPERLINK("x")', answer='a, with "quotes"\nand lines', citations=["c1", "c2"], rating="up")
    rows = store.rows()
    line = json.loads(to_jsonl(rows).splitlines()[0])
    assert line["citations"] == ["c1", "c2"] and line["answer"] == 'a, with "quotes"\nand lines'
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[0]["question"] == '\'=HYPERLINK("x")' and parsed[0]["citations"] == "c1 c2"
    assert parsed[0]["answer"] == 'a, with "quotes"\nand lines'


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feedback")
    env, _ = ingested_fixture_corpus(tmp)
    with api_server(env) as url:
        yield url, env, tmp / "data"


def test_post_feedback_is_stored_in_sqlite(served) -> None:
    url, _env, data = served
    body = {"question": "Who chairs?", "answer": "The chair [1]", "citations": ["c1"], "rating": "up", "comment": "ok"}
    r = httpx.post(f"{url}/feedback", json=body)
    assert r.status_code == 201, r.text
    new_id = r.json()["id"]
    assert isinstance(new_id, int) and list(r.json()) == ["id"]
    with sqlite3.connect(data / "feedback.sqlite3") as conn:
        row = conn.execute(
            "SELECT question, rating, citations, comment, created_at FROM feedback WHERE id=?", (new_id,)
        )
        question, rating, citations, comment, created = row.fetchone()
    assert (question, rating, json.loads(citations), comment) == ("Who chairs?", "up", ["c1"], "ok")
    assert created.startswith(str(datetime.now(UTC).year))
    # comment is optional
    r = httpx.post(f"{url}/feedback", json={k: v for k, v in body.items() if k != "comment"})
    assert r.status_code == 201 and r.json()["id"] == new_id + 1


@pytest.mark.parametrize(
    "change",
    [
        {"rating": "meh"},
        {"comment": "x" * 2001},
        {"question": ""},
        {"citations": "c1"},
        {"citations": [1]},
        {"extra": True},
    ],
)
def test_bad_feedback_is_422(served, change) -> None:
    url = served[0]
    body = {"question": "q", "answer": "a", "citations": [], "rating": "down", **change}
    r = httpx.post(f"{url}/feedback", json=body)
    assert r.status_code == 422 and r.json()["error"] == "invalid_request", r.text


def test_admin_export_route(served) -> None:
    url = served[0]
    httpx.post(f"{url}/feedback", json={"question": "export me", "answer": "a", "citations": ["z9"], "rating": "down"})
    r = httpx.get(f"{url}/admin/feedback/export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    rows = [json.loads(line) for line in r.text.splitlines()]
    assert any(row["question"] == "export me" and row["citations"] == ["z9"] for row in rows)
    r = httpx.get(f"{url}/admin/feedback/export", params={"format": "csv"})
    assert r.status_code == 200 and r.text.startswith("id,created_at,rating,question")
    assert httpx.get(f"{url}/admin/feedback/export", params={"format": "xml"}).status_code == 422


def test_cli_export_and_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = FeedbackStore.in_folder(data, retention_days=None)
    _add(store, datetime.now(UTC) - timedelta(days=500), "ancient")
    _add(store, datetime.now(UTC) - timedelta(days=10), "recent")
    env = {"PKA_DATA_DIR": str(data), "PKA_KNOWLEDGE_DIR": str(tmp_path), "PKA_EMBEDDING_BACKEND": "hashing"}

    out = tmp_path / "fb.jsonl"
    r = run_cli(["feedback", "export", "--out", str(out)], env)
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["question"] for x in out.read_text().splitlines()] == ["ancient", "recent"]
    r = run_cli(["feedback", "export", "--format", "csv"], env)
    assert r.returncode == 0 and [row["question"] for row in csv.DictReader(io.StringIO(r.stdout))] == [
        "ancient",
        "recent",
    ]

    r = run_cli(["feedback", "delete", "--older-than", "1", "--all"], env)
    assert r.returncode == 2 and "not both" in r.stderr
    r = run_cli(["feedback", "delete"], env)  # the retention setting: 365 days
    assert r.returncode == 0 and "1 feedback rows deleted" in r.stdout
    assert [x["question"] for x in store.rows()] == ["recent"]
    r = run_cli(["feedback", "delete", "--older-than", "5"], env)
    assert "1 feedback rows deleted" in r.stdout and store.rows() == []
    _add(store, datetime.now(UTC), "now")
    r = run_cli(["feedback", "delete", "--all"], {**env, "PKA_FEEDBACK_RETENTION_DAYS": "1"})
    assert "1 feedback rows deleted" in r.stdout and store.rows() == []
