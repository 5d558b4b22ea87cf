"""What the routes share: the service, the feedback store, the settings and the ingest jobs as FastAPI
dependencies (all set on the app's state by create_app and its lifespan), the request timeout, and the checks on
questions, history and document ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import Depends, Request
from starlette.convertors import Convertor, register_url_convertor

from assistant.api.jobs import IngestJobs, jobs_of
from assistant.api.models import AskRequest, SearchRequest
from assistant.feedback import FeedbackStore
from assistant.service import AssistantService
from core.config import Settings
from core.errors import BadInput, RequestTimeout

T = TypeVar("T")
_MAX_DOC_ID = 1000
_MAX_NAME_BYTES = 255  # a file or folder name longer than this cannot exist (NAME_MAX)


class _DocIdConvertor(Convertor[str]):
    """Starlette's `path` with newlines too: a file name may hold one, and its document must still be reachable."""

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("doc_id", _DocIdConvertor())  # routes say `{doc_id:doc_id}`


def get_service(request: Request) -> AssistantService:
    return request.app.state.service  # set in the lifespan


def get_feedback(request: Request) -> FeedbackStore:
    return request.app.state.feedback  # set in the lifespan


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # set by create_app


def get_jobs(request: Request) -> IngestJobs:
    """The write side's jobs, or a 503 when this server was started without them."""
    return jobs_of(request.app.state)


ServiceDep = Annotated[AssistantService, Depends(get_service)]
FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
JobsDep = Annotated[IngestJobs, Depends(get_jobs)]


def timeout_message(limit: float) -> str:
    return f"The request took longer than {limit:g} s and was abandoned; try a narrower question."


async def with_timeout(service: AssistantService, fn: Callable[[], T]) -> T:
    """Run blocking work in a thread; answer 504 once PKA_REQUEST_TIMEOUT_S has passed.

    The thread cannot be killed: it finishes in the background and its result is dropped.
    """
    limit = service.settings.request_timeout_s
    try:
        with anyio.fail_after(limit):
            return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
    except TimeoutError:
        raise RequestTimeout(timeout_message(limit)) from None


def check_text(text: str, limit: int) -> None:
    if not text.strip():
        raise BadInput("The question is empty.")
    if len(text) > limit:
        raise BadInput(f"The question is {len(text)} characters; the limit is {limit}.")


def history_of(body: SearchRequest | AskRequest, service: AssistantService) -> list[dict[str, str]]:
    turns = body.history[-service.settings.max_history_turns :] if service.settings.max_history_turns else []
    return [t.model_dump() for t in turns]


def check_doc_id(doc_id: str) -> None:
    """Any name a file can have is a document id (`#`, `%`, `+`, brackets, emoji, even a newline): the id is only a
    key into the store, never a path that is opened. Refused: empty, over-long, and ids no ingest can make."""
    parts = doc_id.replace("\\", "/").split("/")
    if (
        not doc_id
        or len(doc_id) > _MAX_DOC_ID
        or "\x00" in doc_id
        or any(part in ("", ".", "..") for part in parts)
        or any(len(part.encode()) > _MAX_NAME_BYTES for part in parts)
    ):
        raise BadInput(f"{doc_id!r} is not a valid document id.")
