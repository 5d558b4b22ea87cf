"""The application `pka serve` runs: the API (assistant.api) with the write side's jobs plugged in."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from assistant.api.app import create_app as create_api
from assistant.api.jobs import IngestJobs
from assistant.service import AssistantService
from core.config import Settings, get_settings
from ingest.pipeline import IngestLock, ingest_corpus


def _ingest(service: Any) -> Any:
    return ingest_corpus(service.settings, embedder=service.embedder, store=service.store)


def create_app(settings: Settings | None = None, *, service: AssistantService | None = None) -> FastAPI:
    """The API with the ingest jobs; `pka serve` calls it with no arguments (uvicorn's factory)."""
    return create_api(settings or get_settings(), service=service, ingest=IngestJobs(run=_ingest, lock=IngestLock))
