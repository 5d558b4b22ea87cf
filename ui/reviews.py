"""The Reviews & themes page: the review index, the themes across reviews, and 7-minute briefings to read or
download. Talks to the API through ApiClient only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from ui.client import ApiClient, ApiError, ApiUnavailable


def review_rows(reviews: list[dict[str, Any]], theme_labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "Review": r["name"],
            "Type": r["review_type"],
            "Partnership": r["partnership"],
            "Year": r["year"] or "",
            "Learning points": len(r["learning"]),
            "Themes": ", ".join(theme_labels.get(t, t) for t in r["themes"]),
        }
        for r in reviews
    ]


def theme_rows(themes: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"Theme": t["label"], "Reviews": t["reviews"], "Which": ", ".join(names.get(i, i) for i in t["review_ids"])}
        for t in themes["themes"]
        if t["reviews"]
    ]


BRIEFING_KEY = "briefing_shown"


def show_briefing(kind: str, value: str, key: str) -> None:
    """Remember which briefing is open, so it (and both download buttons) stays after a download's rerun."""
    st.session_state[BRIEFING_KEY] = {"kind": kind, "value": value, "key": key}


def _fetch(client: ApiClient, kind: str, value: str, key: str) -> dict[str, Any]:
    """The briefing's JSON and PDF, fetched once per briefing and kept in the session."""
    cache: dict[str, Any] = st.session_state.setdefault("briefing_cache", {})
    if key not in cache:
        body = client.briefing(**{kind: value})
        try:
            pdf = client.briefing_pdf(**{kind: value})
            pdf_error = ""
        except (ApiError, ApiUnavailable) as exc:
            pdf, pdf_error = None, str(getattr(exc, "message", exc))
        cache[key] = {"body": body, "pdf": pdf, "pdf_error": pdf_error}
    return cache[key]


def _briefing(client: ApiClient, kind: str, value: str, key: str) -> None:
    try:
        got = _fetch(client, kind, value, key)
    except (ApiError, ApiUnavailable) as exc:
        st.warning(f"The briefing could not be made: {getattr(exc, 'message', exc)}")
        return
    body = got["body"]
    with st.container(border=True):
        st.markdown(body["markdown"])
        if body["citations"]:
            st.markdown("**Sources**")
            for c in body["citations"]:
                st.caption(f"[{c['n']}] {c['title']} › {c['section']}: “{c['quote'][:200]}”")
    col1, col2 = st.columns(2)
    col1.download_button(
        "Download Markdown", body["markdown"], file_name=f"{key}.md", mime="text/markdown", key=f"md-{key}"
    )
    if got["pdf"]:
        col2.download_button(
            "Download PDF", got["pdf"], file_name=f"{key}.pdf", mime="application/pdf", key=f"pdf-{key}"
        )
    else:
        col2.caption(f"The PDF could not be made: {got['pdf_error'] or 'the API sent nothing'}")


def _open_briefing(client: ApiClient, kind: str, value: str, key: str) -> None:
    shown = st.session_state.get(BRIEFING_KEY)
    if shown and shown["kind"] == kind and shown["value"] == value:
        _briefing(client, kind, value, key)


def reviews_view(client: ApiClient, status: dict[str, Any], ask: Callable[[str], None]) -> None:
    st.title("Reviews and themes")
    if status.get("state") == "down":
        st.warning("**The assistant isn't reachable**, so reviews can't be listed.", icon=":material/cloud_off:")
        return
    try:
        reviews = client.reviews()
        themes = client.themes()
    except (ApiError, ApiUnavailable) as exc:
        st.warning(f"Reviews could not be loaded: {exc}")
        return
    if not reviews:
        st.info("No case reviews were found in the knowledge base.", icon=":material/inbox:")
        return
    labels = {t["id"]: t["label"] for t in themes["themes"]}
    names = {r["id"]: r["name"] for r in reviews}
    st.caption(
        f"{len(reviews)} reviews mentioned in the documents; {themes['reviews_with_learning']} with recorded learning."
    )
    st.table(
        review_rows(reviews, labels), hide_index=True, border="horizontal", alt="Case reviews in the knowledge base"
    )
    st.markdown("#### A review")
    choice = st.selectbox(
        "Review",
        [r["id"] for r in reviews],
        format_func=lambda i: next((f"{r['label']}" for r in reviews if r["id"] == i), i),
        key="review-choice",
    )
    review = next(r for r in reviews if r["id"] == choice)
    if review["learning"]:
        st.markdown("\n".join(f"- {p['text']}" for p in review["learning"]))
    else:
        st.caption("No learning points are recorded for this review in the knowledge base.")
    col1, col2 = st.columns(2)
    col1.button(
        "Ask about this review", key="review-ask", on_click=ask, args=(f"What did the {review['name']} review teach?",)
    )
    key = f"briefing-{review['id']}"
    col2.button("7-minute briefing", key="review-brief", on_click=show_briefing, args=("review", review["id"], key))
    _open_briefing(client, "review", review["id"], key)
    st.markdown("#### Themes across reviews")
    rows = theme_rows(themes, names)
    if rows:
        st.table(rows, hide_index=True, border="horizontal", alt="How many reviews share each learning theme")
        theme = st.selectbox(
            "Theme",
            [t["id"] for t in themes["themes"] if t["reviews"]],
            format_func=lambda t: labels.get(t, t),
            key="theme-choice",
        )
        if theme is None:
            return
        key = f"briefing-{theme}"
        st.button(
            "7-minute briefing on this theme", key="theme-brief", on_click=show_briefing, args=("theme", theme, key)
        )
        _open_briefing(client, "theme", theme, key)
