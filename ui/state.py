"""The app's session state: the API client, the cached health, documents and glossary, the chosen filters, the
conversation sent as context, and the callbacks that change the state. Tests inject a client by putting an
``ApiClient`` into ``st.session_state["pka_client"]`` before the first run."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from ui.client import ApiClient, ApiError, ApiUnavailable

CLIENT_KEY = "pka_client"


HEALTH_TTL_S = 30.0


DOCS_TTL_S = 120.0


MAX_HISTORY_TURNS = 20


# -- state and data ----------------------------------------------------------------------------------------------------


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
    status: dict[str, Any]
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


# -- callbacks ---------------------------------------------------------------------------------------------------------


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
