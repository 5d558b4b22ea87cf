"""The error hierarchy. Each error knows its machine code and HTTP status; the API maps them in one place."""

from __future__ import annotations


class PKAError(Exception):
    """Base of every error this project raises on purpose."""

    code = "error"
    http_status = 500


class BadInput(PKAError):
    code = "bad_input"
    http_status = 400


class NotFound(PKAError):
    code = "not_found"
    http_status = 404


class EmptyKnowledgeBase(PKAError):
    code = "empty_knowledge_base"
    http_status = 503

    def __init__(self, message: str = "The knowledge base is empty: run `pka ingest` first.") -> None:
        super().__init__(message)


class StoreUnavailable(PKAError):
    code = "store_unavailable"
    http_status = 503


class DiskFull(StoreUnavailable):
    code = "disk_full"


class StoreReadOnly(StoreUnavailable):
    code = "store_read_only"


class EmbeddingModelMismatch(PKAError):
    code = "embedding_model_mismatch"
    http_status = 500


class ModelUnavailable(PKAError):
    code = "model_unavailable"
    http_status = 503


class IngestLocked(PKAError):
    code = "ingest_locked"
    http_status = 409


class ParseError(PKAError):
    """A source file could not be read; the ingest reports it by name and carries on."""

    code = "parse_error"
    http_status = 422


class Unauthorized(PKAError):
    code = "unauthorized"
    http_status = 401


class Forbidden(PKAError):
    code = "forbidden"
    http_status = 403


class PayloadTooLarge(PKAError):
    code = "payload_too_large"
    http_status = 413


class RequestTimeout(PKAError):
    code = "timeout"
    http_status = 504
