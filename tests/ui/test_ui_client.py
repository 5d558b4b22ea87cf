"""Unit tests of ui/client.py against httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
import pytest

from ui.client import ApiClient, ApiError, ApiUnavailable, clean_filters


def _client(handler, **kwargs) -> ApiClient:
    return ApiClient("http://api.test/", transport=httpx.MockTransport(handler), **kwargs)


def test_ask_sends_question_history_and_cleaned_filters():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["method"], seen["url"] = request.method, str(request.url)
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json={"answer": "ok", "citations": []})

    out = _client(handler).ask(
        "And then?",
        history=[{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}],
        filters={"doc_type": ["minutes"], "partnership": [], "year_from": None, "year_to": 2022},
    )
    assert out["answer"] == "ok"
    assert seen["method"] == "POST" and seen["url"] == "http://api.test/ask"
    assert seen["body"] == {
        "question": "And then?",
        "history": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}],
        "filters": {"doc_type": ["minutes"], "year_to": 2022},
    }


def test_clean_filters():
    assert clean_filters(None) is None
    assert clean_filters({"doc_type": [], "partnership": ""}) is None
    assert clean_filters({"doc_type": ("a",), "year_from": 2020}) == {"doc_type": ["a"], "year_from": 2020}


def test_get_endpoints_and_paths():
    paths = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        if request.url.path == "/glossary":
            return httpx.Response(200, json={"terms": [{"term": "MASH"}]})
        if request.url.path == "/documents":
            return httpx.Response(200, json=[{"document_id": "a"}])
        return httpx.Response(200, json={"status": "ok", "document_id": "x"})

    c = _client(handler)
    assert c.glossary() == [{"term": "MASH"}]
    assert c.documents() == [{"document_id": "a"}]
    assert c.health()["status"] == "ok"
    c.document("sub dir/file name.txt")
    c.search("q", top_k=3)
    assert paths == ["/glossary", "/documents", "/health", "/documents/sub%20dir/file%20name.txt", "/search"]


def test_search_body():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(200, json={"query": "q", "results": []})

    _client(handler).search("q", top_k=7, filters={"doc_type": "minutes"})
    assert bodies == [{"query": "q", "top_k": 7, "filters": {"doc_type": "minutes"}, "history": []}]


def test_error_body_becomes_api_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": "empty_knowledge_base", "message": "Run pka ingest."})

    with pytest.raises(ApiError) as info:
        _client(handler).ask("q")
    assert info.value.status == 503
    assert info.value.code == "empty_knowledge_base"
    assert info.value.empty_knowledge_base
    assert info.value.message == "Run pka ingest."


def test_non_json_error_and_404():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>nope</html>")

    with pytest.raises(ApiError) as info:
        _client(handler).feedback(question="q", answer="a", citations=[], rating="up")
    assert info.value.not_found
    assert "404" in info.value.message


def test_non_json_success_is_an_api_error():
    with pytest.raises(ApiError):
        _client(lambda r: httpx.Response(200, text="not json")).health()


def test_connection_failure_and_timeout_become_api_unavailable():
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(ApiUnavailable, match="Could not reach"):
        _client(refused).health()
    with pytest.raises(ApiUnavailable, match="too long"):
        _client(slow).ask("q")


def test_feedback_body_and_rating_validation():
    bodies = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append((request.url.path, json.loads(request.content)))
        return httpx.Response(200, json={"ok": True})

    c = _client(handler)
    c.feedback(question="q", answer="a", citations=["c1"], rating="down", comment="missing X")
    assert bodies == [
        ("/feedback", {"question": "q", "answer": "a", "citations": ["c1"], "rating": "down", "comment": "missing X"})
    ]
    with pytest.raises(ValueError):
        c.feedback(question="q", answer="a", citations=[], rating="meh")


def test_api_key_sent_as_bearer_token_and_from_env():
    auth = []

    def handler(request: httpx.Request) -> httpx.Response:
        auth.append(request.headers.get("authorization"))
        return httpx.Response(200, json={})

    _client(handler, api_key="s3cret").health()
    _client(handler).health()
    assert auth == ["Bearer s3cret", None]

    c = ApiClient.from_env({"PKA_API_URL": "http://example.test:9000/", "PKA_API_KEY": "k"})
    assert c.base_url == "http://example.test:9000"
    assert c._http.headers["authorization"] == "Bearer k"
    d = ApiClient.from_env({})
    assert d.base_url == "http://127.0.0.1:8000" and "authorization" not in d._http.headers


def test_ask_stream_parses_events_split_across_chunks_with_comments_and_multiline_data():
    """The SSE wire format as a server may send it: CRLF line ends, a comment, a keep-alive with no JSON, data on
    two lines, and chunk boundaries in the middle of a line."""
    answer = {"answer": "ok [1]", "citations": []}
    wire = (
        ": keep-alive\r\n\r\n"
        'event: token\r\ndata: {"text": "Hel\r\n\r\n'  # not JSON: skipped, not fatal
        'event: token\r\ndata: {"text":\r\ndata:  "Hello"}\r\n\r\n'
        "event: reset\r\ndata: {}\r\n\r\n"
        f"event: answer\r\ndata: {json.dumps(answer)}\r\n\r\n"
        'event: token\r\ndata: {"text": "after the answer"}\r\n\r\n'
    ).encode()
    pieces = [wire[i : i + 7] for i in range(0, len(wire), 7)]

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get("stream") == "true"
        return httpx.Response(200, content=iter(pieces), headers={"content-type": "text/event-stream; charset=utf-8"})

    events = list(_client(handler).ask_stream("q"))
    assert events == [("token", {"text": "Hello"}), ("reset", {}), ("answer", answer)]
