"""Streamlit front end of the Partnership Knowledge Assistant: `streamlit run ui/app.py`.

It talks to the API over HTTP only (ui/client.py); rendering lives in ui/render.py. The API's base URL comes from
PKA_API_URL (default http://127.0.0.1:8000) and, when PKA_API_KEY is set, it is sent as a bearer token.

Tests inject a client by putting an ``ApiClient`` (e.g. backed by ``httpx.MockTransport``) into
``st.session_state["pka_client"]`` before the first run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import streamlit as st

from ui import messages, render  # the project is installed (scripts/install.sh): `ui` imports from anywhere
from ui.client import ApiClient, ApiError, ApiUnavailable
from ui.reviews import reviews_view

CLIENT_KEY = "pka_client"
PAGE_ICON = Path(__file__).resolve().parent / "static" / "icon.png"
HEALTH_TTL_S = 30.0
DOCS_TTL_S = 120.0
MAX_HISTORY_TURNS = 20

PERSONAS: dict[str, dict[str, Any]] = {
    "Practitioner": {
        "intro": "Ask about local procedures, learning from reviews and who does what. Answers quote the "
        "partnership's own documents, with the sources one click away.",
        "questions": [
            "What did the Child Z review teach?",
            "What are the common themes across rapid reviews?",
            "What does the MASH do?",
            "What training is available for practitioners?",
        ],
    },
    "DSL": {
        "intro": "For Designated Safeguarding Leads: what the partnership expects of schools and settings, audits, "
        "and the learning to pass on to staff.",
        "questions": [
            "What is the role of schools in safeguarding arrangements?",
            "What is the Section 11 audit?",
            "What are the common themes across rapid reviews?",
            "What did the annual report say about exploitation?",
        ],
    },
    "New board member (induction)": {
        "intro": "A guided induction: work through these questions in order to learn how the partnership is run, "
        "what it is trying to achieve and what it has learned.",
        "guided": True,
        "questions": [
            "Who are the lead safeguarding partners in East Sussex?",
            "How does the ESSCP board work and how often does it meet?",
            "What are the ESSCP's priorities for 2020-23?",
            "What did the Child Z review teach?",
            "What are the common themes across rapid reviews?",
        ],
    },
}

VIEWS = ("Ask", "Reviews and themes", "Document library", "Glossary")
ICON_DOWN = ":material/cloud_off:"
ICON_EMPTY = ":material/inbox:"
ICON_PROBLEM = ":material/warning:"
ICON_ABSTAIN = ":material/explore:"


# -- state and data --------------------------------------------------------------------------------------------------


def get_client() -> ApiClient:
    client = st.session_state.get(CLIENT_KEY)
    if client is None:
        client = ApiClient.from_env()
        st.session_state[CLIENT_KEY] = client
    return client


def init_state() -> None:
    ss = st.session_state
    ss.setdefault("messages", [])
    ss.setdefault("msg_counter", 0)
    ss.setdefault("doc_target", None)
    ss.setdefault("doc_cache", {})


def api_status(client: ApiClient, *, force: bool = False) -> dict[str, Any]:
    """{"state": "ok"|"empty"|"down"|"error", "message": str, "health": dict|None}, cached while healthy."""
    cached = st.session_state.get("health_cache")
    if cached and not force and cached["state"] == "ok" and time.monotonic() - cached["at"] < HEALTH_TTL_S:
        return cached
    try:
        health = client.health()
        store = str(health.get("store") or "ok")
        if store != "ok" and int(health.get("chunks") or 0) == 0 and "empty" not in store.lower():
            status = {"state": "error", "message": f"The knowledge store is not available ({store}).", "health": health}
        elif int(health.get("chunks") or 0) == 0 or int(health.get("documents") or 0) == 0:
            status = {"state": "empty", "message": str(health.get("store") or ""), "health": health}
        else:
            status = {"state": "ok", "message": "", "health": health}
    except ApiUnavailable as exc:
        status = {"state": "down", "message": exc.message, "health": None}
    except ApiError as exc:
        state = "empty" if exc.empty_knowledge_base else "error"
        status = {"state": state, "message": exc.message, "health": None}
    status["at"] = time.monotonic()
    st.session_state["health_cache"] = status
    return status


def load_documents(client: ApiClient) -> list[dict[str, Any]]:
    cached = st.session_state.get("docs_cache")
    if cached and time.monotonic() - cached["at"] < DOCS_TTL_S:
        return cached["docs"]
    try:
        docs = client.documents()
    except (ApiUnavailable, ApiError):
        return cached["docs"] if cached else []
    st.session_state["docs_cache"] = {"docs": docs, "at": time.monotonic()}
    return docs


def load_glossary(client: ApiClient) -> list[dict[str, Any]]:
    if "glossary_terms" in st.session_state:
        return st.session_state["glossary_terms"]
    try:
        terms = client.glossary()
    except (ApiUnavailable, ApiError):
        return []
    st.session_state["glossary_terms"] = terms
    return terms


def current_filters(docs_years: tuple[int, int] | None) -> dict[str, Any] | None:
    ss = st.session_state
    filters: dict[str, Any] = {}
    if ss.get("f_doc_type"):
        filters["doc_type"] = list(ss["f_doc_type"])
    if ss.get("f_partnership"):
        filters["partnership"] = list(ss["f_partnership"])
    years = ss.get("f_years")
    if docs_years and years and tuple(years) != tuple(docs_years):
        filters["year_from"], filters["year_to"] = int(years[0]), int(years[1])
    return filters or None


def history_for_api() -> list[dict[str, str]]:
    """Successful turns only: a failed question and its error are not sent as context."""
    turns: list[dict[str, str]] = []
    msgs = st.session_state["messages"]
    for i, m in enumerate(msgs):
        if m["role"] == "user":
            nxt = msgs[i + 1] if i + 1 < len(msgs) else None
            if nxt and nxt["role"] == "assistant" and nxt.get("kind") == "answer":
                turns.append({"role": "user", "content": m["content"]})
                turns.append({"role": "assistant", "content": nxt["content"]})
    return turns[-MAX_HISTORY_TURNS:]


# -- callbacks -------------------------------------------------------------------------------------------------------


def queue_question(question: str) -> None:
    st.session_state["pending_question"] = question
    st.session_state["doc_target"] = None
    st.session_state["nav"] = "Ask"


def open_document(target: dict[str, Any]) -> None:
    st.session_state["doc_target"] = target


def close_document() -> None:
    st.session_state["doc_target"] = None


def on_nav_change() -> None:
    st.session_state["doc_target"] = None


def clear_filters(years: tuple[int, int] | None = None) -> None:
    """Reset the filter widgets to their empty values. Setting the values (rather than deleting the keys) tells
    the browser too, so the old choice does not come back when another widget is touched."""
    st.session_state["f_doc_type"] = []
    st.session_state["f_partnership"] = []
    if years is not None:
        st.session_state["f_years"] = years
    else:
        st.session_state.pop("f_years", None)


def clear_conversation() -> None:
    st.session_state["messages"] = []


def retry_connection() -> None:
    for key in ("health_cache", "docs_cache", "glossary_terms"):
        st.session_state.pop(key, None)


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


# -- sidebar ---------------------------------------------------------------------------------------------------------


def sidebar(docs: list[dict[str, Any]], status: dict[str, Any]) -> dict[str, Any] | None:
    with st.sidebar:
        st.markdown("## Partnership Knowledge Assistant")
        st.radio("Go to", VIEWS, key="nav", on_change=on_nav_change)
        st.radio(
            "I am a…",
            list(PERSONAS),
            key="persona",
            help="Changes the suggested start points. The answers come from the same documents.",
        )

        st.markdown("### Filters")
        st.caption("Narrow what the assistant searches. Leave empty to search everything.")
        st.multiselect(
            "Document type", list(render.DOC_TYPE_LABELS), key="f_doc_type", format_func=render.doc_type_label
        )
        partnerships = render.partnerships_of(docs)
        st.multiselect("Partnership", partnerships, key="f_partnership")
        bounds = render.year_bounds(docs)
        if bounds and bounds[0] < bounds[1]:
            years = st.session_state.get("f_years")
            if not years or years[0] < bounds[0] or years[1] > bounds[1]:
                st.session_state["f_years"] = bounds  # the state, not value=, sets it: no duplicate-value warning
            st.slider("Year", min_value=bounds[0], max_value=bounds[1], key="f_years")
        filters = current_filters(bounds)
        st.caption(f"Searching: {render.describe_filters(filters)}")
        st.button(
            "Clear filters",
            on_click=clear_filters,
            args=(bounds if bounds and bounds[0] < bounds[1] else None,),
            disabled=filters is None,
            key="clear-filters",
        )

        st.divider()
        if st.session_state["messages"]:
            st.button("Start a new conversation", on_click=clear_conversation, key="clear-chat")
        health = status.get("health") or {}
        if status["state"] == "ok":
            st.caption(f"Connected · {health.get('documents', 0)} documents · {health.get('chunks', 0)} passages")
        elif status["state"] == "down":
            st.caption("Not connected to the assistant.")
    return filters


# -- chat ------------------------------------------------------------------------------------------------------------


def render_citations(msg: dict[str, Any], glossary: render.Glossary) -> None:
    response = msg["response"]
    citations = response.get("citations") or []
    if not citations:
        return
    st.markdown("**Sources**")
    st.caption("Select a source, or its [n] in the answer, to read the passage with the quoted text highlighted.")
    for c in citations:
        n = c.get("n")
        st.markdown(render.citation_source(c, str(msg["id"]), glossary=glossary), unsafe_allow_html=True)
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


def render_assistant(msg: dict[str, Any], glossary: render.Glossary) -> None:
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
        abstention = render.render_abstention(
            body, filtered=bool(filters), filters_text=render.describe_filters(filters) if filters else ""
        )
        st.info(abstention, icon=ICON_ABSTAIN)
    elif body:
        st.markdown(
            render.render_answer(
                body, response.get("citations") or [], glossary=glossary, anchor_prefix=str(msg["id"])
            ),
            unsafe_allow_html=True,
        )
    note = render.mode_note(response)
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
                placeholder.markdown(render.render_draft(draft), unsafe_allow_html=True)
            elif event == "reset":
                draft = ""
                placeholder.empty()
            elif event == "answer":
                return data
    except ApiError as exc:
        if exc.status not in (404, 405, 406, 415, 501):
            raise
    return client.ask(question, history=history, filters=filters)


def ask(question: str, filters: dict[str, Any] | None, glossary: render.Glossary) -> None:
    client = get_client()
    history = history_for_api()
    msgs = st.session_state["messages"]
    msgs.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(render.annotate(question, glossary), unsafe_allow_html=True)
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


def asked_questions() -> set[str]:
    return {m["content"].strip().lower() for m in st.session_state["messages"] if m["role"] == "user"}


def start_points(persona: str, *, compact: bool, also_asked: str = "") -> None:
    spec = PERSONAS.get(persona) or PERSONAS["Practitioner"]
    asked = asked_questions() | ({also_asked.lower()} if also_asked else set())
    guided = bool(spec.get("guided"))
    title = "Your induction path" if guided else f"Start points for a {render.lower_words(persona)}"
    container = st.expander(title, expanded=guided) if compact else st.container()
    with container:
        if not compact:
            st.markdown(f"#### {title}")
        st.markdown(spec["intro"])
        questions = spec["questions"]
        if guided:
            done = sum(q.lower() in asked for q in questions)
            st.progress(done / len(questions), text=f"{done} of {len(questions)} induction questions asked")
        for i, q in enumerate(questions, start=1):
            mark = "✓ " if q.lower() in asked else ""
            label = f"{mark}{i}. {q}" if guided else q
            st.button(label, key=f"start-{persona}-{i}", on_click=queue_question, args=(q,))


def next_induction_step(persona: str) -> None:
    spec = PERSONAS.get(persona) or {}
    if not spec.get("guided") or not st.session_state["messages"]:
        return
    asked = asked_questions()
    remaining = [q for q in spec["questions"] if q.lower() not in asked]
    if remaining:
        st.button(
            f"Next induction question: {remaining[0]}",
            key="induction-next",
            type="primary",
            on_click=queue_question,
            args=(remaining[0],),
        )
    else:
        st.success("You've been through the whole induction path. Ask anything else below.", icon=":material/school:")


def chat_view(status: dict[str, Any], filters: dict[str, Any] | None, glossary: render.Glossary) -> None:
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
                st.markdown(render.annotate(msg["content"], glossary), unsafe_allow_html=True)
            else:
                render_assistant(msg, glossary)

    if question:
        ask(question, filters, glossary)
    next_induction_step(persona)


# -- documents and glossary ------------------------------------------------------------------------------------------


def document_view(target: dict[str, Any], glossary: render.Glossary) -> None:
    st.button("← Back", on_click=close_document, key="doc-back")
    doc_id = target.get("document_id") or ""
    cache: dict[str, Any] = st.session_state["doc_cache"]
    doc = cache.get(doc_id)
    if doc is None:
        try:
            with st.spinner("Opening the document…"):
                doc = get_client().document(doc_id)
            cache[doc_id] = doc
        except ApiUnavailable as exc:
            st.warning(
                f"**The assistant isn't reachable, so the document can't be opened.** {exc.message}", icon=ICON_DOWN
            )
            return
        except ApiError as exc:
            st.warning(f"**This document could not be opened.** {exc.message}", icon=ICON_PROBLEM)
            return
    st.header(doc.get("title") or doc_id)
    meta = " · ".join(
        str(p)
        for p in (
            render.doc_type_label(doc.get("doc_type")),
            doc.get("partnership"),
            doc.get("date") or doc.get("year"),
            f"{doc.get('chunks', 0)} passages",
        )
        if p
    )
    st.caption(meta)
    if doc.get("source_url"):
        st.markdown(f"Original: [{render.esc(doc['source_url'])}]({doc['source_url']})")
    text = doc.get("text") or ""
    start, end, quote = target.get("start"), target.get("end"), target.get("quote") or ""
    spans = render.document_spans(text, start, end, quote)
    if spans:
        n = target.get("from_citation")
        st.subheader(f"The cited passage{f' [{n}]' if n else ''} in context")
        window = render.context_window(text, spans)
        st.markdown(
            render.highlight_document(text, start, end, quote, glossary=glossary, window=window, mark_id="pka-ctx"),
            unsafe_allow_html=True,
        )
    st.subheader("Full text")
    with st.container(height=520, border=True):
        st.markdown(
            render.highlight_document(text, start, end, quote, glossary=glossary, mark_id="pka-doc-quote"),
            unsafe_allow_html=True,
        )


def library_view(docs: list[dict[str, Any]], status: dict[str, Any]) -> None:
    st.title("Document library")
    if status["state"] == "down":
        st.warning("**The assistant isn't reachable**, so the library can't be listed.", icon=ICON_DOWN)
        st.button("Try again", on_click=retry_connection, key="retry-lib")
        return
    if not docs:
        st.info("**The knowledge base is empty.** Run `pka ingest` to add documents.", icon=ICON_EMPTY)
        return
    rows = render.document_rows(docs)
    total_chunks = sum(int(r["Chunks"] or 0) for r in rows)
    st.caption(f"{len(rows)} documents · {total_chunks} passages the assistant can quote")
    cols = ["Title", "Type", "Partnership", "Year", "Chunks"]
    st.table(
        [{("Passages" if c == "Chunks" else c): r[c] for c in cols} for r in rows],
        hide_index=True,
        border="horizontal",
        alt="Documents in the knowledge base, with type, partnership, year and number of passages",
    )
    st.markdown("#### Read a document")
    choice = st.selectbox(
        "Document",
        [r["Id"] for r in rows],
        format_func=lambda i: next((f"{r['Title']} ({r['Type']})" for r in rows if r["Id"] == i), i),
        key="lib-choice",
    )
    st.button("Open document", key="lib-open", on_click=open_document, args=({"document_id": choice},))


def glossary_view(terms: list[dict[str, Any]], status: dict[str, Any]) -> None:
    st.title("Glossary")
    if not terms:
        if status["state"] == "down":
            st.warning("**The assistant isn't reachable**, so the glossary can't be shown.", icon=ICON_DOWN)
            st.button("Try again", on_click=retry_connection, key="retry-glossary")
        else:
            st.info("No glossary terms are available.")
        return
    st.caption(
        "Abbreviations the assistant understands. In answers, hover over an underlined abbreviation to expand it."
    )
    query = st.text_input("Find a term", key="glossary-q", placeholder="e.g. MASH or exploitation").strip().lower()
    rows = [
        {
            "Term": t.get("term", ""),
            "Meaning": t.get("expansion", ""),
            "Also called": ", ".join(t.get("synonyms") or []),
            "Note": t.get("note") or "",
        }
        for t in terms
        if not query or any(query in str(v).lower() for v in (t.get("term"), t.get("expansion"), t.get("synonyms")))
    ]
    if rows:
        st.table(rows, hide_index=True, border="horizontal", alt="Glossary of abbreviations and their meanings")
    else:
        st.info("No term matches that search.")


# -- main ------------------------------------------------------------------------------------------------------------


def main() -> None:
    # A local file: a ":material/…:" or emoji icon would make the browser fetch the favicon from a font CDN.
    st.set_page_config(page_title="Partnership Knowledge Assistant", page_icon=str(PAGE_ICON), layout="centered")
    st.html(render.CSS)
    init_state()
    client = get_client()
    status = api_status(client)
    docs = load_documents(client) if status["state"] != "down" else []
    terms = load_glossary(client) if status["state"] != "down" else []
    glossary = render.Glossary(terms)
    filters = sidebar(docs, status)

    target = st.session_state.get("doc_target")
    view = st.session_state.get("nav") or VIEWS[0]
    if target:
        document_view(target, glossary)
    elif view == "Reviews and themes":
        reviews_view(client, status, queue_question)
    elif view == "Document library":
        library_view(docs, status)
    elif view == "Glossary":
        glossary_view(terms, status)
    else:
        chat_view(status, filters, glossary)


main()
