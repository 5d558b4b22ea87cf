"""The sidebar: where to go, who is asking, the search filters and the connection line."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.contracts import DOC_TYPE_LABELS, doc_type_label
from ui.answers import describe_filters
from ui.listing import partnerships_of, year_bounds
from ui.personas import PERSONAS
from ui.state import clear_conversation, clear_filters, current_filters, on_nav_change

VIEWS = ("Ask", "Reviews and themes", "Document library", "Glossary")


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
        st.multiselect("Document type", list(DOC_TYPE_LABELS), key="f_doc_type", format_func=doc_type_label)
        partnerships = partnerships_of(docs)
        st.multiselect("Partnership", partnerships, key="f_partnership")
        bounds = year_bounds(docs)
        if bounds and bounds[0] < bounds[1]:
            years = st.session_state.get("f_years")
            if not years or years[0] < bounds[0] or years[1] > bounds[1]:
                st.session_state["f_years"] = bounds  # the state, not value=, sets it: no duplicate-value warning
            st.slider("Year", min_value=bounds[0], max_value=bounds[1], key="f_years")
        filters = current_filters(bounds)
        st.caption(f"Searching: {describe_filters(filters)}")
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
