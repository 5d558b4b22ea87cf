"""Request and response bodies of the HTTP API. Unknown fields are rejected."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.types import Citation, Filters, Turn


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchRequest(_Strict):
    query: str = Field(min_length=1, max_length=2000)
    top_k: int = Field(5, ge=1, le=50)
    filters: Filters | None = None
    history: list[Turn] = Field(default_factory=list, max_length=50)


class SearchResult(_Strict):
    chunk_id: str
    document_id: str
    title: str
    doc_type: str
    partnership: str
    section: str
    page: int | None
    text: str
    score: float
    start: int
    end: int


class SearchResponse(_Strict):
    query: str
    results: list[SearchResult]


class AskRequest(_Strict):
    question: str = Field(min_length=1, max_length=2000)
    history: list[Turn] = Field(default_factory=list, max_length=50)
    filters: Filters | None = None


class AskResponse(_Strict):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    mode: str
    fallback_reason: str | None = None  # why the extractive answer was given although an LLM is configured
    urgent: bool = False
    kind: str = ""
    citations: list[Citation]
    filters: Filters | None = None
    timings_ms: dict[str, float]


class DocumentSummary(_Strict):
    document_id: str
    title: str
    doc_type: str
    partnership: str
    date: str
    year: int | None
    source_url: str
    media_type: str
    chunks: int
    chars: int


class DocumentDetail(DocumentSummary):
    text: str


class Health(_Strict):
    status: str
    store: str
    chunks: int
    documents: int
    embedding_model: str
    # False between an ingest and the moment this process's search index has caught up with it
    index_current: bool = True
    # fingerprint of the store served (Settings.store_id): `pka ask` uses this API only when it matches its own
    store_id: str = ""


ChunkId = Annotated[str, Field(min_length=1, max_length=300)]


class FeedbackRequest(_Strict):
    question: str = Field(min_length=1, max_length=2000)
    answer: str = Field(max_length=50_000)
    citations: list[ChunkId] = Field(default_factory=list, max_length=100)
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


class FeedbackCreated(_Strict):
    id: int


class FailedFile(_Strict):
    name: str
    reason: str


class IngestResult(_Strict):
    ok: bool
    files: int
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    failed: list[FailedFile]
    skipped: list[FailedFile]
    chunks_written: int
    chunks_total: int
    seconds: dict[str, float]
    index_chunks: int
    # passages flagged as planted instructions and kept out of answers (GET /admin/flagged lists them): why, per
    # file written in this run; and how many each unchanged file still holds
    flagged: dict[str, list[str]] = {}
    flagged_before: dict[str, int] = {}


class Deleted(_Strict):
    deleted: str
    chunks: int
    index_chunks: int


class Reloaded(_Strict):
    reloaded: bool
    chunks: int


class ErrorBody(BaseModel):
    error: str
    message: str
