"""Fuzz the HTTP API from its own OpenAPI schema with schemathesis: valid and invalid requests to every operation
of a real `pka serve` on 127.0.0.1; no request may get a 5xx, and every error body is our JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.servers import api_server, ingested_fixture_corpus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "knowledge"
ROOT = Path(__file__).resolve().parents[2]
MAX_EXAMPLES = 50
WITH_INPUT = {"POST /search", "POST /ask", "POST /feedback", "GET /admin/feedback/export"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    env, _ = ingested_fixture_corpus(tmp_path_factory.mktemp("fuzz"))
    with api_server(env) as url:
        yield url


def _operations(url: str) -> list:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_schema_lists_every_route(api: str) -> None:
    labels = {op.label for op in _operations(api)}
    assert {"POST /ask", "POST /search", "POST /feedback", "GET /documents/{doc_id}", "POST /admin/ingest"} <= labels


LABELS = [
    "GET /health",
    "POST /search",
    "POST /ask",
    "GET /documents",
    "GET /documents/{doc_id}",
    "GET /glossary",
    "POST /feedback",
    "POST /admin/reload",
    "GET /admin/feedback/export",
    "DELETE /admin/documents/{doc_id}",
    "GET /admin/flagged",
]
POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE


@pytest.mark.parametrize(
    ("label", "mode"),
    [(label, POSITIVE) for label in LABELS] + [(label, NEGATIVE) for label in LABELS if label in WITH_INPUT],
)
def test_no_server_errors(api: str, label: str, mode: schemathesis.GenerationMode) -> None:
    operation = next(op for op in _operations(api) if op.label == label)
    failures: list[str] = []
    seen: dict[int, int] = {}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(base_url=api, timeout=30)
        seen[response.status_code // 100] = seen.get(response.status_code // 100, 0) + 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} for {case.method} {case.formatted_path}: {response.text[:300]}")
        if response.status_code >= 400:
            body = response.json()
            assert set(body) >= {"error", "message"}, response.text
            assert "Traceback" not in response.text

    check()
    assert not failures, "\n".join(failures[:5])
    assert seen, "no request was made"
    if mode == NEGATIVE and label.startswith("POST"):
        assert set(seen) == {4}, seen  # invalid bodies are refused with a 4xx
