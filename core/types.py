"""The plain data types that flow between ingest, the store, the assistant, the API and the UI.

No I/O lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DocType = Literal["learning_briefing", "procedure", "annual_report", "minutes", "national_guidance", "other"]
DOC_TYPES: tuple[str, ...] = DocType.__args__  # type: ignore[attr-defined]  # Literal exposes its values here


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Span(_Frozen):
    """A labelled stretch of a document's cleaned text: a section heading's reach or a page."""

    kind: Literal["section", "page"]
    label: str
    start: int
    end: int


class DocumentMeta(_Frozen):
    """What the manifest (or inference from the file) says about a document."""

    title: str
    doc_type: DocType = "other"
    partnership: str = ""
    date: str = ""  # ISO date or year, as known
    year: int | None = None
    source_url: str = ""
    supersedes: str = ""  # comma-separated ids of documents this one replaces (an older procedure, last year's report)


class Document(_Frozen):
    """A parsed and cleaned source file. `text` is the canonical text every offset points into."""

    doc_id: str  # posix path relative to the knowledge folder
    meta: DocumentMeta
    media_type: str
    text: str
    content_hash: str  # sha256 of the cleaned text
    spans: tuple[Span, ...] = ()


class Chunk(_Frozen):
    """A retrievable passage. Invariant: document.text[start:end] == text."""

    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    start: int
    end: int
    section: str = ""  # heading path, "5. Learning › 5.1 Learning from Rapid Reviews"
    page: int | None = None
    kind: str = "text"  # text | list | table | review | minute
    context: str = ""  # indexed with the text (title, heading path, table header); never shown as a quote
    doc_hash: str
    title: str
    doc_type: str
    partnership: str = ""
    year: int | None = None
    flag: str = ""  # why ingest flagged it as a planted instruction (core/flagging.py); flagged chunks never answer


class SearchHit(_Frozen):
    """A chunk returned by retrieval, with its fused score and rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int
    dense: float = 0.0  # cosine similarity of the query to the chunk


class Citation(_Frozen):
    n: int
    chunk_id: str
    document_id: str
    title: str
    section: str
    page: int | None
    text: str  # the passage cited
    quote: str  # the sentence(s) of the passage the answer used
    start: int  # offsets of the quote in the document's cleaned text
    end: int
    doc_type: str = ""
    partnership: str = ""


class Answer(_Frozen):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    mode: Literal["extractive", "generative"] = "extractive"
    fallback_reason: str | None = None  # with an LLM configured: why the extractive answer was given (generate.py)
    urgent: bool = False  # the question describes a live concern about a child: signposting came first
    kind: str = ""  # the answer's shape: fact, list, compare, review, themes, theme, clarify, abstain
    timings_ms: dict[str, float] = Field(default_factory=dict)


class Turn(_Frozen):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class Filters(_Frozen):
    doc_type: list[DocType] | DocType | None = None
    partnership: list[str] | str | None = None
    year_from: int | None = Field(None, ge=1900, le=2100)
    year_to: int | None = Field(None, ge=1900, le=2100)

    @model_validator(mode="after")
    def _years_in_order(self) -> Filters:
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ValueError(
                f"year_from ({self.year_from}) is after year_to ({self.year_to}): no document could match; "
                "swap them, or give only one"
            )
        return self

    def doc_types(self) -> set[str]:
        return _as_set(self.doc_type)

    def partnerships(self) -> set[str]:
        return {p.lower() for p in _as_set(self.partnership)}

    def accepts(self, chunk: Chunk) -> bool:
        if self.doc_types() and chunk.doc_type not in self.doc_types():
            return False
        parts = self.partnerships()
        if parts and not any(p in chunk.partnership.lower() for p in parts):
            return False
        if self.year_from is not None and (chunk.year is None or chunk.year < self.year_from):
            return False
        return not (self.year_to is not None and (chunk.year is None or chunk.year > self.year_to))

    def is_empty(self) -> bool:
        return not (self.doc_types() or self.partnerships() or self.year_from or self.year_to)


def _as_set(value: Sequence[str] | str | None) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return {value} if value else set()
    return {v for v in value if v}
