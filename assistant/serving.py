"""The application `pka serve` runs: the API (assistant.api) with the write side's jobs plugged in.

Imports: core, assistant, ingest (the API package itself imports no ingest code; this entry point joins them).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from assistant.api.app import create_app as create_api
from assistant.api.jobs import IngestJobs
from core.config import get_settings
from ingest.pipeline import IngestLock, ingest_corpus


def _ingest(service: Any) -> Any:
    return ingest_corpus(service.settings, embedder=service.embedder, store=service.store)


def create_app() -> FastAPI:
    return create_api(get_settings(), ingest=IngestJobs(run=_ingest, lock=IngestLock))
