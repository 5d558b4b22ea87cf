"""Streaming answers in the UI: the client's SSE parsing, and the app showing the checked answer (not the draft)
when the API streams, falling back to the plain call when it does not."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from conftest import CITATION, FakeApi, answer_for
from test_ui_app import QUESTION, ask, captions, markdown_text, start

from ui import answers
from ui.client import ApiError

DRAFT = "The model's unchecked draft about Child Z [1] and a made-up claim [7]."


def _sse(events: list[tuple[str, Any]]) -> bytes:
    return "".join(f"event: {e}\ndata: {json.dumps(d)}\n\n" for e, d in events).encode()


def streaming(api: FakeApi, *, final: dict[str, Any] | None = None, tail: list[tuple[str, Any]] | None = None) -> None:
    """Make the fake API stream /ask?stream=true: tokens of DRAFT, a reset, tokens again, then the answer."""

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if request.url.params.get("stream") != "true":
            return httpx.Response(200, json=answer_for(body))
        words = [w + " " for w in DRAFT.split()]
        answer = final or {**answer_for(body), "mode": "generative", "fallback_reason": None}
        events = [("token", {"text": w}) for w in words[:3]] + [("reset", {})]
        events += [("token", {"text": w}) for w in words]
        events += tail if tail is not None else [("answer", answer)]
        return httpx.Response(200, content=_sse(events), headers={"content-type": "text/event-stream"})

    api.overrides[("POST", "/ask")] = handler


def test_client_yields_tokens_then_the_answer(fake_api: FakeApi) -> None:
    streaming(fake_api)
    events = list(fake_api.client().ask_stream(QUESTION))
    kinds = [e for e, _ in events]
    assert kinds[:4] == ["token", "token", "token", "reset"] and kinds[-1] == "answer"
    assert events[-1][1]["mode"] == "generative"
    assert fake_api.bodies("POST", "/ask") == [{"question": QUESTION, "history": [], "filters": None}]


def test_client_takes_a_plain_json_reply_as_the_answer(fake_api: FakeApi) -> None:
    events = list(fake_api.client().ask_stream(QUESTION))  # the default fake does not stream
    assert [e for e, _ in events] == ["answer"] and events[0][1]["citations"] == [CITATION]


def test_client_raises_on_an_error_event_or_a_cut_stream(fake_api: FakeApi) -> None:
    streaming(fake_api, tail=[("error", {"error": "request_timeout", "message": "Too slow.", "status": 504})])
    with pytest.raises(ApiError) as err:
        list(fake_api.client().ask_stream(QUESTION))
    assert err.value.status == 504 and err.value.code == "request_timeout" and err.value.message == "Too slow."
    streaming(fake_api, tail=[])
    with pytest.raises(ApiError, match="ended before the answer"):
        list(fake_api.client().ask_stream(QUESTION))


def test_client_error_status_before_the_stream(fake_api: FakeApi) -> None:
    fake_api.chunks = 0
    with pytest.raises(ApiError) as err:
        list(fake_api.client().ask_stream(QUESTION))
    assert err.value.empty_knowledge_base


def test_app_shows_the_checked_answer_not_the_draft(fake_api: FakeApi) -> None:
    streaming(fake_api)
    at = ask(start(fake_api), QUESTION)
    md = markdown_text(at)
    assert "unchecked draft" not in md and "made-up claim" not in md
    assert "The legacy of relationships characterised by domestic abuse" in md
    assert "every sentence was checked" in captions(at)
    msg = at.session_state["messages"][-1]
    assert msg["kind"] == "answer" and msg["response"]["mode"] == "generative"


def test_app_says_when_it_fell_back_to_quotes(fake_api: FakeApi) -> None:
    final = {**answer_for({"question": QUESTION}), "mode": "extractive", "fallback_reason": "llm_timeout"}
    streaming(fake_api, final=final)
    at = ask(start(fake_api), QUESTION)
    assert "Quoted from the sources (the language model did not answer in time)." in captions(at)


def test_app_streams_an_error_event_as_a_friendly_message(fake_api: FakeApi) -> None:
    streaming(fake_api, tail=[("error", {"error": "request_timeout", "message": "It took too long.", "status": 504})])
    at = ask(start(fake_api), QUESTION)
    assert at.session_state["messages"][-1]["kind"] == "error"
    assert any("It took too long." in w.value for w in at.warning)


def test_app_falls_back_to_the_plain_call_when_streaming_is_refused(fake_api: FakeApi) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("stream") == "true":
            return httpx.Response(405, json={"error": "http_error", "message": "Method Not Allowed"})
        return httpx.Response(200, json=answer_for(json.loads(request.content)))

    fake_api.overrides[("POST", "/ask")] = refuse
    at = ask(start(fake_api), QUESTION)
    assert at.session_state["messages"][-1]["kind"] == "answer"
    assert len(fake_api.bodies("POST", "/ask")) == 2


def test_render_draft_escapes_and_marks_it_unchecked() -> None:
    html = answers.render_draft("<b>bold</b> [1]")
    assert "&lt;b&gt;" in html and "Draft" in html and "▌" in html
    assert answers.mode_note({"mode": "extractive", "fallback_reason": "extractive_abstained"}) == ""
    assert answers.mode_note({"mode": "extractive"}) == ""
