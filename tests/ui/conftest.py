"""Shared fixtures for the UI tests: a fake API behind httpx.MockTransport, so nothing needs a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ui.client import ApiClient

APP_PATH = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")

PASSAGE = (
    "Child Z (delay in publication due to ongoing criminal proceedings)\n"
    "Key learning:\n"
    "· The legacy of relationships characterised by domestic abuse\n"
    "· Information sharing about adults who may pose risks to children"
)
DOC_TEXT = "Intro line about the MASH.\n" + PASSAGE + "\nThematic Review follows."
QUOTE = (
    "Key learning: … · The legacy of relationships characterised by domestic abuse … "
    "· Information sharing about adults who may pose risks to children"
)
_Q_START = DOC_TEXT.index("Key learning:")

DOCUMENTS = [
    {
        "document_id": "001_report.txt",
        "title": "ESSCP Annual Report 2021/22",
        "doc_type": "annual_report",
        "partnership": "East Sussex Safeguarding Children Partnership (ESSCP)",
        "date": "2022",
        "year": 2022,
        "source_url": "https://example.org/report",
        "media_type": "text/plain",
        "chunks": 180,
        "chars": len(DOC_TEXT),
    },
    {
        "document_id": "003_minutes.txt",
        "title": "Essex Safeguarding Sub-Committee minutes",
        "doc_type": "minutes",
        "partnership": "Essex Safeguarding Children Board (ESCB)",
        "date": "2010",
        "year": 2010,
        "source_url": "",
        "media_type": "text/plain",
        "chunks": 7,
        "chars": 3000,
    },
]

GLOSSARY = {
    "terms": [
        {"term": "MASH", "expansion": "Multi-Agency Safeguarding Hub", "synonyms": [], "note": ""},
        {"term": "ESSCP", "expansion": "East Sussex Safeguarding Children Partnership", "synonyms": [], "note": ""},
        {"term": "SCR", "expansion": "Serious Case Review", "synonyms": [], "note": "Before 2019."},
    ]
}

CITATION = {
    "n": 1,
    "chunk_id": "chunk-1",
    "document_id": "001_report.txt",
    "title": "ESSCP Annual Report 2021/22",
    "section": "5 Learning › 5.1 Rapid Reviews",
    "page": None,
    "text": PASSAGE,
    "quote": QUOTE,
    "start": _Q_START,
    "end": DOC_TEXT.index("Thematic") - 1,
    "doc_type": "annual_report",
    "partnership": "East Sussex Safeguarding Children Partnership (ESSCP)",
}

ABSTAIN_TEXT = (
    "I can't find an answer to that in the partnership's knowledge base, so I won't guess. "
    "If a child is in immediate danger, call 999."
)


def urgent_text(documents_part: str) -> str:
    """An urgent answer as the service writes it: the fixed signposting, then what the documents say."""
    from assistant.signposting import Signposting

    steps = Signposting.load(Path(__file__).resolve().parents[2] / "knowledge" / "signposting.yaml").text()
    return f"{steps}\n\n**What the knowledge base says:**\n{documents_part}"


def answer_for(body: dict[str, Any]) -> dict[str, Any]:
    question = body["question"]
    if "bruise" in question:  # a live concern about a child
        abstained = "teach" not in question
        return {
            "question": question,
            "standalone_question": question,
            "answer": urgent_text(ABSTAIN_TEXT if abstained else "Bruising protocol applies. [1]"),
            "abstained": abstained,
            "urgent": True,
            "mode": "extractive",
            "citations": [] if abstained else [CITATION],
            "filters": body.get("filters"),
            "timings_ms": {"retrieve": 5.0},
        }
    if "capital of France" in question:
        return {
            "question": question,
            "standalone_question": question,
            "answer": ABSTAIN_TEXT,
            "abstained": True,
            "mode": "extractive",
            "citations": [],
            "filters": body.get("filters"),
            "timings_ms": {"retrieve": 5.0},
        }
    standalone = question
    if body.get("history"):  # as assistant/conversation.py words a follow-up: the question, then the last one
        standalone = f"{question} — {body['history'][-2]['content']}"
    return {
        "question": question,
        "standalone_question": standalone,
        "answer": "Key learning: [1]\n- The legacy of relationships characterised by domestic abuse [1]\n"
        "- Information sharing about adults who may pose risks to children [1]",
        "abstained": False,
        "mode": "extractive",
        "citations": [CITATION],
        "filters": body.get("filters"),
        "timings_ms": {"retrieve": 30.0, "compose": 3.0},
    }


class FakeApi:
    """A scriptable stand-in for the HTTP API; ``requests`` records (method, path, json body, headers)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any, httpx.Headers]] = []
        self.overrides: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.feedback_exists = True
        self.down = False
        self.chunks = 226

    def bodies(self, method: str, path: str) -> list[Any]:
        return [b for m, p, b, _ in self.requests if m == method and p == path]

    def handler(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.requests.append((request.method, path, body, request.headers))
        key = (request.method, path)
        if key in self.overrides:
            return self.overrides[key](request)
        if key == ("GET", "/health"):
            docs = len(DOCUMENTS) if self.chunks else 0
            return httpx.Response(
                200,
                json={
                    "status": "ok",
                    "store": "ok",
                    "chunks": self.chunks,
                    "documents": docs,
                    "embedding_model": "hashing",
                },
            )
        if key == ("GET", "/documents"):
            return httpx.Response(200, json=DOCUMENTS if self.chunks else [])
        if request.method == "GET" and path.startswith("/documents/"):
            doc_id = path.removeprefix("/documents/")
            for d in DOCUMENTS:
                if d["document_id"] == doc_id:
                    return httpx.Response(200, json={**d, "text": DOC_TEXT})
            return httpx.Response(404, json={"error": "not_found", "message": f"No document with id {doc_id!r}."})
        if key == ("GET", "/glossary"):
            return httpx.Response(200, json=GLOSSARY)
        if key == ("POST", "/ask"):
            if not self.chunks:
                return httpx.Response(503, json={"error": "empty_knowledge_base", "message": "Nothing ingested."})
            return httpx.Response(200, json=answer_for(body))
        if key == ("POST", "/feedback") and self.feedback_exists:
            return httpx.Response(200, json={"saved": True})
        return httpx.Response(404, json={"error": "http_error", "message": "Not Found"})

    def client(self, **kwargs: Any) -> ApiClient:
        return ApiClient("http://api.test", transport=httpx.MockTransport(self.handler), **kwargs)


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeApi()
