"""The HTTP API through a real `pka serve` process on 127.0.0.1, with a real store in a temp folder."""

from __future__ import annotations

import httpx
import pytest

from tests.servers import api_server, ingested_fixture_corpus


@pytest.fixture(scope="module")
def api(tmp_path_factory) -> str:
    env, output = ingested_fixture_corpus(tmp_path_factory.mktemp("api"))
    assert "3 added" in output
    with api_server(env) as url:
        yield url


def test_health(api: str) -> None:
    body = httpx.get(f"{api}/health").json()
    assert body["status"] == "ok" and body["documents"] == 3 and body["chunks"] > 3
    assert body["embedding_model"] == "hashing-256" and body["index_current"] is True


def test_search_ranks_the_passage_that_answers(api: str) -> None:
    r = httpx.post(
        f"{api}/search", json={"query": "how many rapid reviews did the Independent Chair report were held", "top_k": 3}
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == 3
    assert "9 rapid reviews were held" in results[0]["text"]
    assert results[0]["document_id"] == "minutes.txt" and results[0]["doc_type"] == "minutes"
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]


def test_search_filters(api: str) -> None:
    r = httpx.post(
        f"{api}/search", json={"query": "rapid review", "top_k": 10, "filters": {"doc_type": "learning_briefing"}}
    )
    assert {x["document_id"] for x in r.json()["results"]} == {"briefing.md"}
    r = httpx.post(f"{api}/search", json={"query": "rapid review", "filters": {"year_from": 2023}})
    assert {x["document_id"] for x in r.json()["results"]} == {"briefing.md"}


def test_ask_cites_the_learning(api: str) -> None:
    r = httpx.post(f"{api}/ask", json={"question": "What did the Child Q rapid review teach?"})
    assert r.status_code == 200
    body = r.json()
    assert body["abstained"] is False and body["mode"] == "extractive"
    assert "non-mobile baby" in body["answer"] and "fathers and male carers" in body["answer"]
    assert "[1]" in body["answer"]
    cite = body["citations"][0]
    assert cite["n"] == 1 and cite["document_id"] == "briefing.md"
    doc = httpx.get(f"{api}/documents/{cite['document_id']}").json()
    assert doc["text"][cite["start"] : cite["end"]] in cite["text"]


def test_ask_follow_up_uses_history(api: str) -> None:
    history = [{"role": "user", "content": "How many rapid reviews did the Board hear about in the minutes?"}]
    body = httpx.post(f"{api}/ask", json={"question": "and how many became local reviews?", "history": history}).json()
    assert "How many rapid reviews" in body["standalone_question"]
    assert "3 became local child safeguarding practice reviews" in body["answer"]


def test_ask_abstains_when_the_knowledge_base_does_not_say(api: str) -> None:
    body = httpx.post(f"{api}/ask", json={"question": "What is the policy on drones over playgrounds?"}).json()
    assert body["abstained"] is True and body["citations"] == []
    assert "can't find" in body["answer"] and "999" in body["answer"]


def test_documents_and_glossary(api: str) -> None:
    docs = httpx.get(f"{api}/documents").json()
    assert {d["document_id"] for d in docs} == {"briefing.md", "minutes.txt", "procedure.html"}
    q = next(d for d in docs if d["document_id"] == "briefing.md")
    assert q["title"] == "Child Q Rapid Review learning briefing" and q["chunks"] >= 1
    terms = {t["term"]: t for t in httpx.get(f"{api}/glossary").json()["terms"]}
    assert terms["MASH"]["expansion"] == "Multi-Agency Safeguarding Hub"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("post", "/ask", {"question": ""}, 422, "invalid_request"),
        ("post", "/ask", {"question": "   "}, 400, "bad_input"),
        ("post", "/ask", {"question": "x" * 2001}, 422, "invalid_request"),
        ("post", "/ask", {"question": "ok", "unknown": 1}, 422, "invalid_request"),
        ("post", "/ask", {"question": "ok", "history": [{"role": "robot", "content": "x"}]}, 422, "invalid_request"),
        ("post", "/search", {"query": "ok", "top_k": 0}, 422, "invalid_request"),
        ("post", "/search", {"query": "ok", "top_k": 51}, 422, "invalid_request"),
        ("post", "/search", {"query": "ok", "filters": {"doc_type": "novel"}}, 422, "invalid_request"),
        ("post", "/search", {"query": "ok", "filters": {"year_from": 2022, "year_to": 2020}}, 422, "invalid_request"),
        ("get", "/documents/nope.txt", None, 404, "not_found"),
        ("get", "/documents/..%2F..%2Fetc%2Fpasswd", None, 400, "bad_input"),
        ("get", "/no-such-route", None, 404, "http_error"),
    ],
)
def test_bad_requests_get_4xx_with_a_message(api: str, method: str, path: str, body, status: int, error: str) -> None:
    r = httpx.request(method.upper(), f"{api}{path}", json=body)
    assert r.status_code == status
    payload = r.json()
    assert payload["error"] == error and payload["message"]
    assert "Traceback" not in r.text


def test_reversed_years_say_which_way_round(api: str) -> None:
    r = httpx.post(f"{api}/ask", json={"question": "ok", "filters": {"year_from": 2022, "year_to": 2020}})
    assert r.status_code == 422
    assert "year_from (2022) is after year_to (2020)" in r.json()["message"]
    r = httpx.post(f"{api}/ask", json={"question": "ok", "filters": {"year_from": 2020, "year_to": 2020}})
    assert r.status_code != 422  # one year is a range


def test_malformed_json_is_a_4xx(api: str) -> None:
    r = httpx.post(f"{api}/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid_request"


def test_empty_knowledge_base_is_503_with_a_hint(tmp_path) -> None:
    env = {
        "PKA_KNOWLEDGE_DIR": str(tmp_path),
        "PKA_DATA_DIR": str(tmp_path / "data"),
        "PKA_EMBEDDING_BACKEND": "hashing",
    }
    with api_server(env) as url:
        r = httpx.post(f"{url}/ask", json={"question": "anything"})
        assert r.status_code == 503
        assert r.json()["error"] == "empty_knowledge_base" and "pka ingest" in r.json()["message"]
