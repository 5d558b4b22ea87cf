"""The Document library and Glossary pages, and one document opened from a citation with the quote highlighted."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.contracts import doc_type_label
from ui.client import ApiError, ApiUnavailable
from ui.highlight import context_window, document_spans, highlight_document
from ui.listing import document_rows
from ui.markup import Glossary, esc
from ui.state import close_document, get_client, open_document, retry_connection
from ui.style import ICON_DOWN, ICON_EMPTY, ICON_PROBLEM


def document_view(target: dict[str, Any], glossary: Glossary) -> None:
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
            doc_type_label(doc.get("doc_type")),
            doc.get("partnership"),
            doc.get("date") or doc.get("year"),
            f"{doc.get('chunks', 0)} passages",
        )
        if p
    )
    st.caption(meta)
    if doc.get("source_url"):
        st.markdown(f"Original: [{esc(doc['source_url'])}]({doc['source_url']})")
    text = doc.get("text") or ""
    start, end, quote = target.get("start"), target.get("end"), target.get("quote") or ""
    spans = document_spans(text, start, end, quote)
    if spans:
        n = target.get("from_citation")
        st.subheader(f"The cited passage{f' [{n}]' if n else ''} in context")
        window = context_window(text, spans)
        st.markdown(
            highlight_document(text, start, end, quote, glossary=glossary, window=window, mark_id="pka-ctx"),
            unsafe_allow_html=True,
        )
    st.subheader("Full text")
    with st.container(height=520, border=True):
        st.markdown(
            highlight_document(text, start, end, quote, glossary=glossary, mark_id="pka-doc-quote"),
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
    rows = document_rows(docs)
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
