"""Request and response bodies of the HTTP API (error bodies: assistant.api.errors). Unknown fields are rejected."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


class HealthDegraded(Health):
    """GET /health's 503: the Health fields, and why the store cannot be read."""

    error: str
    message: str


class GlossaryTerm(_Strict):
    term: str
    expansion: str
    synonyms: list[str]
    note: str
    replaced_by: str  # an old term's current equivalent


class GlossaryTerms(_Strict):
    terms: list[GlossaryTerm]


class LearningPointOut(_Strict):
    text: str
    chunk_id: str
    start: int  # offsets into the document's cleaned text
    end: int
    themes: list[str]


class ReviewOut(_Strict):
    id: str
    name: str
    label: str
    review_type: str
    partnership: str
    year: int | None
    document_id: str
    title: str
    chunk_id: str
    summary: str
    themes: list[str]
    learning: list[LearningPointOut]


class ReviewList(_Strict):
    reviews: list[ReviewOut]


class ThemeCount(_Strict):
    id: str
    label: str
    reviews: int
    review_ids: list[str]


class ThemeList(_Strict):
    reviews_with_learning: int
    themes: list[ThemeCount]


class BriefingRequest(_Strict):
    review: str | None = Field(None, min_length=1, max_length=200)
    theme: str | None = Field(None, min_length=1, max_length=200)
    format: Literal["json", "markdown", "pdf"] = "json"

    @model_validator(mode="after")
    def _one(self) -> BriefingRequest:
        if (self.review is None) == (self.theme is None):
            raise ValueError("give exactly one of `review` or `theme`")
        return self


class BriefingResponse(BaseModel):
    title: str
    markdown: str
    citations: list[Citation]


class FlaggedPassage(BaseModel):
    document_id: str
    title: str
    chunk_id: str
    section: str
    page: int | None
    start: int
    end: int
    reason: str
    text: str


class FlaggedList(BaseModel):
    passages: list[FlaggedPassage]
    documents: dict[str, int]  # document id -> how many of its passages are flagged
