"""Who is asking: the personas offered in the sidebar, their start-point questions and the guided induction."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.markup import lower_words
from ui.state import queue_question

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


def asked_questions() -> set[str]:
    return {m["content"].strip().lower() for m in st.session_state["messages"] if m["role"] == "user"}


def start_points(persona: str, *, compact: bool, also_asked: str = "") -> None:
    spec = PERSONAS.get(persona) or PERSONAS["Practitioner"]
    asked = asked_questions() | ({also_asked.lower()} if also_asked else set())
    guided = bool(spec.get("guided"))
    title = "Your induction path" if guided else f"Start points for a {lower_words(persona)}"
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
