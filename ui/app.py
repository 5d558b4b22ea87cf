"""Streamlit front end of the Partnership Knowledge Assistant: `python -m streamlit run ui/app.py` from the repository
root (scripts/up.sh does), or `streamlit run ui/app.py` with the project installed: either way `ui` is importable.

It talks to the API over HTTP only (ui/client.py). This file sets the page up and picks the view; the pages live
in ui/chat.py (Ask), ui/reviews.py (Reviews and themes) and ui/library.py (Document library, Glossary, one
document), the sidebar in ui/sidebar.py and the session state in ui/state.py. The words it shares with the API
(document-type labels, fallback reasons, the signposting line) come from core/contracts.py. The API's base URL comes
from PKA_API_URL (default http://127.0.0.1:8000) and, when PKA_API_KEY is set, it is sent as a bearer token.

Tests inject a client by putting an ``ApiClient`` (e.g. backed by ``httpx.MockTransport``) into
``st.session_state["pka_client"]`` before the first run.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.chat import chat_view
from ui.library import document_view, glossary_view, library_view
from ui.markup import Glossary
from ui.reviews import reviews_view
from ui.sidebar import VIEWS, sidebar
from ui.state import api_status, get_client, init_state, load_documents, load_glossary, queue_question
from ui.style import CSS

PAGE_ICON = Path(__file__).resolve().parent / "static" / "icon.png"


def main() -> None:
    # A local file: a ":material/…:" or emoji icon would make the browser fetch the favicon from a font CDN.
    st.set_page_config(page_title="Partnership Knowledge Assistant", page_icon=str(PAGE_ICON), layout="centered")
    st.html(CSS)
    init_state()
    client = get_client()
    status = api_status(client)
    docs = load_documents(client) if status["state"] != "down" else []
    terms = load_glossary(client) if status["state"] != "down" else []
    glossary = Glossary(terms)
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
