"""The Ask page: the question box, the conversation, each answer with its sources and feedback buttons, and the
streamed draft while an answer is written."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import messages
from ui.answers import describe_filters, mode_note, render_abstention, render_answer, render_draft
from ui.client import ApiClient, ApiError, ApiUnavailable
from ui.highlight import citation_source
from ui.markup import Glossary, annotate
from ui.personas import next_induction_step, start_points
from ui.state import get_client, history_for_api, open_document, retry_connection
from ui.style import ICON_ABSTAIN, ICON_DOWN, ICON_EMPTY, ICON_PROBLEM


def send_feedback(msg_id: int, rating: str) -> None:
    msgs = st.session_state["messages"]
    idx = next((i for i, m in enumerate(msgs) if m.get("id") == msg_id), None)
    if idx is None:
        return
    msg = msgs[idx]
    question = msgs[idx - 1]["content"] if idx > 0 else msg.get("question", "")
    comment = str(st.session_state.get(f"fb-comment-{msg_id}") or "").strip()
    citations = [c.get("chunk_id", "") for c in msg["response"].get("citations", [])]
    try:
        get_client().feedback(
            question=question, answer=msg["content"], citations=citations, rating=rating, comment=comment
        )
        msg["feedback"] = {"rating": rating, "status": "saved"}
    except (ApiUnavailable, ApiError) as exc:
        msg["feedback"] = {"rating": rating, "status": "failed", "detail": getattr(exc, "message", str(exc))}


def render_citations(msg: dict[str, Any], glossary: Glossary) -> None:
    response = msg["response"]
    citations = response.get("citations") or []
    if not citations:
        return
    st.markdown("**Sources**")
    st.caption("Select a source, or its [n] in the answer, to read the passage with the quoted text highlighted.")
    for c in citations:
        n = c.get("n")
        st.markdown(citation_source(c, str(msg["id"]), glossary=glossary), unsafe_allow_html=True)
        target = {
            "document_id": c.get("document_id"),
            "start": c.get("start"),
            "end": c.get("end"),
            "quote": c.get("quote") or "",
            "title": c.get("title") or "",
            "from_citation": n,
        }
        st.button(
            "Open the whole document",
            key=f"open-{msg['id']}-{n}",
            on_click=open_document,
            args=(target,),
            help=f"Show the full text of source [{n}] with this passage highlighted",
        )


def render_feedback(msg: dict[str, Any]) -> None:
    fb = msg.get("feedback")
    if fb and fb.get("status") == "saved":
        label = "helpful" if fb["rating"] == "up" else "not helpful"
        st.caption(f"Thanks — your feedback ({label}) was saved.")
        return
    if fb and fb.get("status") == "failed":
        st.caption("Your feedback could not be saved. You can try again.")
    with st.container(horizontal=True, vertical_alignment="bottom", gap="small"):
        st.button(
            "Helpful",
            key=f"fb-up-{msg['id']}",
            icon=":material/thumb_up:",
            on_click=send_feedback,
            args=(msg["id"], "up"),
            help="This answer was helpful",
        )
        st.button(
            "Not helpful",
            key=f"fb-down-{msg['id']}",
            icon=":material/thumb_down:",
            on_click=send_feedback,
            args=(msg["id"], "down"),
            help="This answer was wrong, incomplete or unclear",
        )
        st.text_input(
            "Comment (optional), sent with your rating",
            key=f"fb-comment-{msg['id']}",
            placeholder="What was good or missing?",
            max_chars=1000,
            width="stretch",
        )


def render_assistant(msg: dict[str, Any], glossary: Glossary) -> None:
    kind = msg.get("kind")
    if kind == "down":
        st.warning(
            f"**The assistant isn't reachable right now.** {msg['content']}\n\n"
            "Please try again in a moment. If it keeps happening, ask whoever runs the assistant to start the API "
            "(`pka serve`).",
            icon=ICON_DOWN,
        )
        return
    if kind == "empty":
        st.info(
            "**The knowledge base is empty.** Nothing has been ingested yet — run `pka ingest` and ask again.",
            icon=ICON_EMPTY,
        )
        return
    if kind == "error":
        st.warning(f"**The assistant couldn't answer that.** {msg['content']}", icon=ICON_PROBLEM)
        return

    response = msg["response"]
    body = msg["content"]
    if response.get("urgent"):
        # A live concern about a child: the steps first, as an alert; then what the documents say, if anything.
        steps, body = messages.split_urgent(body)
        st.markdown(messages.render_urgent_steps(steps), unsafe_allow_html=True)
        if response.get("abstained"):
            body = ""
        elif body:
            st.markdown("**What the partnership's documents say:**")
    if body and response.get("abstained"):
        filters = response.get("filters")
        abstention = render_abstention(
            body, filtered=bool(filters), filters_text=describe_filters(filters) if filters else ""
        )
        st.info(abstention, icon=ICON_ABSTAIN)
    elif body:
        st.markdown(
            render_answer(body, response.get("citations") or [], glossary=glossary, anchor_prefix=str(msg["id"])),
            unsafe_allow_html=True,
        )
    note = mode_note(response)
    if note:
        st.caption(note)
    st.caption(messages.searched_caption(response))
    render_citations(msg, glossary)
    render_feedback(msg)


def ask_streaming(
    client: ApiClient,
    question: str,
    history: list[dict[str, str]],
    filters: dict[str, Any] | None,
    placeholder: Any,
) -> dict[str, Any]:
    """The answer, with the model's draft shown in `placeholder` as its tokens arrive (when the API streams: an
    LLM is configured). The draft is replaced by the checked answer. Falls back to the plain call when the API
    does not take ?stream=true."""
    stream = getattr(client, "ask_stream", None)
    if stream is None:
        return client.ask(question, history=history, filters=filters)
    draft = ""
    try:
        for event, data in stream(question, history=history, filters=filters):
            if event == "token":
                draft += str(data.get("text") or "")
                placeholder.markdown(render_draft(draft), unsafe_allow_html=True)
            elif event == "reset":
                draft = ""
                placeholder.empty()
            elif event == "answer":
                return data
    except ApiError as exc:
        if exc.status not in (404, 405, 406, 415, 501):
            raise
    return client.ask(question, history=history, filters=filters)


def ask(question: str, filters: dict[str, Any] | None, glossary: Glossary) -> None:
    client = get_client()
    history = history_for_api()
    msgs = st.session_state["messages"]
    msgs.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(annotate(question, glossary), unsafe_allow_html=True)
    st.session_state["msg_counter"] += 1
    msg_id = st.session_state["msg_counter"]
    with st.chat_message("assistant"):
        placeholder = st.empty()
        with st.spinner("Searching the partnership's documents… this can take a few seconds."):
            try:
                response = ask_streaming(client, question, history, filters, placeholder)
                if response.get("filters") is None and filters:
                    response["filters"] = filters
                msg = {
                    "role": "assistant",
                    "kind": "answer",
                    "id": msg_id,
                    "content": response.get("answer", ""),
                    "response": response,
                }
            except ApiUnavailable as exc:
                msg = {"role": "assistant", "kind": "down", "id": msg_id, "content": exc.message}
                st.session_state.pop("health_cache", None)
            except ApiError as exc:
                kind = "empty" if exc.empty_knowledge_base else "error"
                msg = {"role": "assistant", "kind": kind, "id": msg_id, "content": exc.message}
        placeholder.empty()
        msgs.append(msg)
        render_assistant(msg, glossary)


def chat_view(status: dict[str, Any], filters: dict[str, Any] | None, glossary: Glossary) -> None:
    st.title("Ask the partnership's documents")
    persona = st.session_state.get("persona") or "Practitioner"
    state = status["state"]
    if state == "down":
        st.warning(
            "**The assistant isn't reachable.** The app could not connect to the knowledge assistant API "
            f"at `{get_client().base_url}`.\n\n"
            "If you run it yourself, start it with `pka serve` (and set `PKA_API_URL` if it runs elsewhere), "
            "then press *Try again*.",
            icon=ICON_DOWN,
        )
        st.button("Try again", on_click=retry_connection, key="retry", type="primary")
    elif state == "empty":
        st.info(
            "**The knowledge base is empty.** No documents have been ingested yet. "
            "Run `pka ingest` to add the partnership's documents, then press *Try again*.",
            icon=ICON_EMPTY,
        )
        st.button("Try again", on_click=retry_connection, key="retry")
    elif state == "error":
        st.warning(f"**The assistant reported a problem:** {status['message']}", icon=ICON_PROBLEM)
        st.button("Try again", on_click=retry_connection, key="retry")

    usable = state in ("ok", "error")
    prompt = st.chat_input(
        "Ask about the documents" if usable else "The assistant is not available",
        key="question",
        max_chars=2000,
        disabled=not usable,
    )
    pending = st.session_state.pop("pending_question", None)
    question = (prompt or pending or "").strip() if usable else ""

    messages = st.session_state["messages"]
    start_points(persona, compact=bool(messages) or bool(question), also_asked=question)

    for msg in messages:
        with st.chat_message(msg["role"]):
            if msg["role"] == "user":
                st.markdown(annotate(msg["content"], glossary), unsafe_allow_html=True)
            else:
                render_assistant(msg, glossary)

    if question:
        ask(question, filters, glossary)
    next_induction_step(persona)
