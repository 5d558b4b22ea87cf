"""Streamlit AppTest flows for ui/app.py, against a fake API (httpx.MockTransport): no server needed."""

from __future__ import annotations

import httpx
import pytest
from conftest import APP_PATH, CITATION, FakeApi
from streamlit.testing.v1 import AppTest

QUESTION = "What did the Child Z review teach?"


def start(api: FakeApi, **session: object) -> AppTest:
    at = AppTest.from_file(APP_PATH, default_timeout=20)
    at.session_state["pka_client"] = api.client()
    for k, v in session.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def markdown_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def test_ask_renders_answer_with_linked_markers(fake_api: FakeApi):
    at = ask(start(fake_api), QUESTION)
    assert fake_api.bodies("POST", "/ask") == [{"question": QUESTION, "history": [], "filters": None}]
    md = markdown_text(at)
    assert 'class="pka-cite" href="#pka-1-cite-1"' in md
    assert 'id="pka-1-cite-1"' in md  # the marker's target exists
    assert "Searched all documents" in captions(at)
    assert at.session_state["messages"][-1]["kind"] == "answer"


def test_follow_up_sends_history(fake_api: FakeApi):
    at = ask(start(fake_api), QUESTION)
    at = ask(at, "What happened next?")
    first, second = fake_api.bodies("POST", "/ask")
    assert first["history"] == []
    assert second["question"] == "What happened next?"
    assert second["history"][0] == {"role": "user", "content": QUESTION}
    assert second["history"][1]["role"] == "assistant"
    assert second["history"][1]["content"].startswith("Key learning: [1]")
    # the rewrite is shown in plain words: a follow-up to the earlier question, not the glued-together query
    assert f"Taken as a follow-up to your earlier question “{QUESTION}”" in captions(at)
    assert "—" not in captions(at)


def test_follow_up_caption_only_when_the_rewrite_adds_something(fake_api: FakeApi):
    at = ask(start(fake_api), QUESTION)
    assert "follow-up" not in captions(at) and "Taken to mean" not in captions(at)


def test_citation_passage_is_highlighted_and_opens_the_document(fake_api: FakeApi):
    at = ask(start(fake_api), QUESTION)
    md = markdown_text(at)
    assert CITATION["title"] in md
    assert "Annual report · ESSCP · 5 Learning › 5.1 Rapid Reviews" in md
    # the passage the answer's [1] links to sits inside the source's <details>, highlighted: one click opens it
    assert '<details class="pka-source">' in md
    assert '<div class="pka-passage" id="pka-1-cite-1">' in md and '<mark class="pka-quote">Key learning:' in md

    button(at, "Open the whole document").click().run()
    assert not at.exception
    assert any(h.value == CITATION["title"] for h in at.header)
    md = markdown_text(at)
    assert 'id="pka-doc-quote"' in md and 'id="pka-ctx"' in md
    assert ("GET", "/documents/001_report.txt") in [(m, p) for m, p, _, _ in fake_api.requests]
    # glossary abbreviations are expanded in the document too
    assert '<abbr title="Multi-Agency Safeguarding Hub">MASH</abbr>' in md

    button(at, "← Back").click().run()
    assert any("pka-passage" in m.value for m in at.markdown)  # the conversation is still there


def test_filters_are_sent_and_shown(fake_api: FakeApi):
    at = start(fake_api)
    at.multiselect(key="f_doc_type").set_value(["annual_report"]).run()
    at.multiselect(key="f_partnership").set_value(["East Sussex Safeguarding Children Partnership (ESSCP)"]).run()
    at.slider(key="f_years").set_value((2020, 2022)).run()
    assert "Searching: type: Annual report · partnership: ESSCP · years 2020–2022" in captions(at)
    at = ask(at, QUESTION)
    body = fake_api.bodies("POST", "/ask")[-1]
    assert body["filters"] == {
        "doc_type": ["annual_report"],
        "partnership": ["East Sussex Safeguarding Children Partnership (ESSCP)"],
        "year_from": 2020,
        "year_to": 2022,
    }
    assert "Searched type: Annual report · partnership: ESSCP · years 2020–2022" in captions(at)

    button(at, "Clear filters").click().run()
    at = ask(at, "Another question?")
    assert fake_api.bodies("POST", "/ask")[-1]["filters"] is None


def test_feedback_is_sent_with_comment(fake_api: FakeApi):
    at = ask(start(fake_api), QUESTION)
    at.text_input(key="fb-comment-1").input("Very clear").run()
    button(at, "Helpful").click().run()
    assert not at.exception
    assert fake_api.bodies("POST", "/feedback") == [
        {
            "question": QUESTION,
            "answer": at.session_state["messages"][1]["content"],
            "citations": ["chunk-1"],
            "rating": "up",
            "comment": "Very clear",
        }
    ]
    assert "Thanks — your feedback (helpful) was saved." in captions(at)


def test_feedback_endpoint_missing_is_handled(fake_api: FakeApi):
    fake_api.feedback_exists = False
    at = ask(start(fake_api), QUESTION)
    button(at, "Not helpful").click().run()
    assert not at.exception and not at.error
    assert "feedback could not be saved" in captions(at).lower()
    assert fake_api.bodies("POST", "/feedback")[0]["rating"] == "down"


def test_api_down_shows_friendly_state(fake_api: FakeApi):
    fake_api.down = True
    at = start(fake_api)
    assert not at.error
    text = "\n".join(w.value for w in at.warning)
    assert "isn't reachable" in text and "pka serve" in text
    assert at.chat_input(key="question").disabled
    # recovering: the API comes back and the user presses "Try again"
    fake_api.down = False
    button(at, "Try again").click().run()
    assert not at.warning
    at = ask(at, QUESTION)
    assert fake_api.bodies("POST", "/ask")


def test_api_failing_during_a_question_is_friendly(fake_api: FakeApi):
    at = start(fake_api)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    fake_api.overrides[("POST", "/ask")] = refuse
    at = ask(at, QUESTION)
    assert not at.error
    assert any("isn't reachable" in w.value for w in at.warning)
    # the failed turn is not sent as history next time
    fake_api.overrides.clear()
    at = ask(at, "Second try")
    assert fake_api.bodies("POST", "/ask")[-1]["history"] == []


def test_empty_knowledge_base_state(fake_api: FakeApi):
    fake_api.chunks = 0
    at = start(fake_api)
    text = "\n".join(i.value for i in at.info)
    assert "knowledge base is empty" in text and "pka ingest" in text
    assert not at.error


def test_degraded_store_is_reported(fake_api: FakeApi):
    fake_api.overrides[("GET", "/health")] = lambda r: httpx.Response(
        200,
        json={"status": "degraded", "store": "error: chroma down", "chunks": 0, "documents": 0, "embedding_model": "m"},
    )
    at = start(fake_api)
    assert any("chroma down" in w.value for w in at.warning)
    assert not at.error


def test_urgent_answer_is_an_alert_with_the_steps_first(fake_api: FakeApi):
    at = ask(start(fake_api), "My pupil has a bruise on her face and is scared to go home")
    assert not at.info  # not the calm "couldn't find" box
    rendered = markdown_text(at)
    body = rendered.split("pka-urgent", 1)[1]  # what follows the question
    assert 'class="pka-urgent" role="alert"' in rendered
    assert body.index("999") < body.index("front door")  # the steps come first
    assert body.count("999") == 1
    for unwanted in ("couldn't find", "can't find", "rephrase"):
        assert unwanted not in body.lower()


def test_urgent_answer_keeps_what_the_documents_say(fake_api: FakeApi):
    at = ask(start(fake_api), "My pupil has a bruise, what did the bruising review teach?")
    rendered = markdown_text(at)
    assert 'role="alert"' in rendered
    assert "What the partnership's documents say" in rendered and "Bruising protocol applies." in rendered
    assert rendered.index('role="alert"') < rendered.index("Bruising protocol applies.")


def test_filtered_abstention_says_nothing_in_the_filtered_documents_answers(fake_api: FakeApi):
    at = start(fake_api)
    at.multiselect(key="f_doc_type").set_value(["minutes"]).run()
    at = ask(at, "What is the capital of France?")
    info = "\n".join(i.value for i in at.info)
    assert "Nothing in the filtered documents (type: Minutes) answers this" in info
    assert "couldn't find this in the partnership's documents" not in info


def test_start_points_keep_abbreviations_in_capitals(fake_api: FakeApi):
    at = start(fake_api)
    at.radio(key="persona").set_value("DSL").run()
    assert "#### Start points for a DSL" in markdown_text(at)
    at.radio(key="persona").set_value("Practitioner").run()
    assert "#### Start points for a practitioner" in markdown_text(at)


def test_clear_filters_stays_cleared_after_another_control(fake_api: FakeApi):
    at = start(fake_api)
    at.multiselect(key="f_doc_type").set_value(["minutes"]).run()
    button(at, "Clear filters").click().run()
    assert "Searching: all documents" in captions(at)
    at.radio(key="persona").set_value("DSL").run()  # touch another sidebar control
    assert "Searching: all documents" in captions(at)
    assert at.multiselect(key="f_doc_type").value == []
    at = ask(at, QUESTION)
    assert fake_api.bodies("POST", "/ask")[-1]["filters"] is None


def test_abstention_is_a_calm_info_message(fake_api: FakeApi):
    at = ask(start(fake_api), "What is the capital of France?")
    assert not at.error and not at.warning
    info = "\n".join(i.value for i in at.info)
    assert "couldn't find this in the partnership's documents" in info
    assert "999" in info


def test_induction_guided_path(fake_api: FakeApi):
    at = start(fake_api)
    at.radio(key="persona").set_value("New board member (induction)").run()
    labels = [b.label for b in at.button]
    assert "1. Who are the lead safeguarding partners in East Sussex?" in labels
    assert "4. What did the Child Z review teach?" in labels
    button(at, "1. Who are the lead safeguarding partners in East Sussex?").click().run()
    assert fake_api.bodies("POST", "/ask")[-1]["question"] == "Who are the lead safeguarding partners in East Sussex?"
    step2 = "How does the ESSCP board work and how often does it meet?"
    button(at, f"Next induction question: {step2}").click().run()
    assert fake_api.bodies("POST", "/ask")[-1]["question"] == step2
    labels = [b.label for b in at.button]
    assert "✓ 1. Who are the lead safeguarding partners in East Sussex?" in labels


@pytest.mark.parametrize("persona", ["Practitioner", "DSL"])
def test_other_start_points_ask_their_question(fake_api: FakeApi, persona: str):
    at = start(fake_api)
    at.radio(key="persona").set_value(persona).run()
    first = [b for b in at.button if b.key and b.key.startswith(f"start-{persona}-")][0]
    first.click().run()
    assert fake_api.bodies("POST", "/ask")[-1]["question"] == first.label


def test_document_library_lists_documents(fake_api: FakeApi):
    at = start(fake_api)
    at.radio(key="nav").set_value("Document library").run()
    assert not at.exception
    assert "2 documents · 187 passages" in captions(at)
    df = at.table[0].value
    assert list(df["Title"]) == ["ESSCP Annual Report 2021/22", "Essex Safeguarding Sub-Committee minutes"]
    assert list(df["Passages"]) == [180, 7]
    assert list(df["Type"]) == ["Annual report", "Minutes"]
    at.selectbox(key="lib-choice").set_value("003_minutes.txt").run()
    button(at, "Open document").click().run()
    assert any(h.value == "Essex Safeguarding Sub-Committee minutes" for h in at.header)


def test_glossary_panel(fake_api: FakeApi):
    at = start(fake_api)
    at.radio(key="nav").set_value("Glossary").run()
    df = at.table[0].value
    assert "MASH" in list(df["Term"])
    at.text_input(key="glossary-q").input("serious").run()
    assert list(at.table[0].value["Term"]) == ["SCR"]


def test_api_key_is_sent_when_configured(fake_api: FakeApi):
    at = AppTest.from_file(APP_PATH, default_timeout=20)
    at.session_state["pka_client"] = fake_api.client(api_key="k1")
    at.run()
    assert {h.get("authorization") for _, _, _, h in fake_api.requests} == {"Bearer k1"}


def test_client_built_from_environment(monkeypatch: pytest.MonkeyPatch):
    # Nothing listens on this port, so the app must show its friendly "not reachable" state.
    monkeypatch.setenv("PKA_API_URL", "http://127.0.0.1:9")
    at = AppTest.from_file(APP_PATH, default_timeout=20)
    at.run()
    assert not at.exception
    assert at.session_state["pka_client"].base_url == "http://127.0.0.1:9"
    assert any("isn't reachable" in w.value for w in at.warning)


def test_reviews_page_lists_reviews_themes_and_makes_a_briefing(monkeypatch) -> None:
    """The Reviews and themes page renders the index from GET /reviews and /themes and shows a briefing."""
    import httpx
    from streamlit.testing.v1 import AppTest

    from ui.client import ApiClient

    reviews = [
        {
            "id": "esscp-child-z",
            "name": "Child Z",
            "label": "Child Z (LCSPR, ESSCP 2022)",
            "review_type": "LCSPR",
            "partnership": "ESSCP",
            "year": 2022,
            "document_id": "d",
            "title": "T",
            "chunk_id": "c1",
            "summary": "Child Z",
            "themes": ["domestic_abuse"],
            "learning": [
                {
                    "text": "The legacy of domestic abuse",
                    "chunk_id": "c1",
                    "start": 0,
                    "end": 5,
                    "themes": ["domestic_abuse"],
                }
            ],
        }
    ]
    themes = {
        "reviews_with_learning": 1,
        "themes": [{"id": "domestic_abuse", "label": "Domestic abuse", "reviews": 1, "review_ids": ["esscp-child-z"]}],
    }
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/health":
            return httpx.Response(
                200, json={"status": "ok", "store": "ok", "chunks": 5, "documents": 1, "embedding_model": "m"}
            )
        if request.url.path == "/documents":
            return httpx.Response(200, json=[])
        if request.url.path == "/glossary":
            return httpx.Response(200, json={"terms": []})
        if request.url.path == "/reviews":
            return httpx.Response(200, json={"reviews": reviews})
        if request.url.path == "/themes":
            return httpx.Response(200, json=themes)
        if request.url.path == "/briefing":
            if b'"pdf"' in request.content:
                return httpx.Response(200, content=b"%PDF-1.4 test", headers={"content-type": "application/pdf"})
            return httpx.Response(
                200,
                json={
                    "title": "t",
                    "markdown": "# 7-minute briefing: Child Z\n\n## Key learning\n\n- The legacy of domestic abuse\n",
                    "citations": [],
                },
            )
        return httpx.Response(404, json={"error": "not_found", "message": "no"})

    at = AppTest.from_file(APP_PATH, default_timeout=30)
    at.session_state["pka_client"] = ApiClient("http://api.test", transport=httpx.MockTransport(handler))
    at.session_state["nav"] = "Reviews and themes"
    at.run()
    assert not at.exception
    assert any("Child Z" in str(t.value) for t in at.table)
    assert any("Domestic abuse" in str(t.value) for t in at.table)
    at.button(key="review-brief").click().run()
    assert not at.exception
    assert any("7-minute briefing: Child Z" in m.value for m in at.markdown)
    assert "POST /briefing" in seen
    downloads = list(at.get("download_button"))
    assert len(downloads) == 2
    # A download reruns the script without the button's click: the briefing and both buttons must stay.
    briefings = seen.count("POST /briefing")
    at.run()
    assert not at.exception
    assert any("7-minute briefing: Child Z" in m.value for m in at.markdown)
    assert len(at.get("download_button")) == 2
    assert seen.count("POST /briefing") == briefings  # kept in the session, not fetched again
