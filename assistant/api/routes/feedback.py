"""POST /feedback: a rating of an answer (exported and deleted under /admin/feedback and `pka feedback`)."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import FeedbackDep, SettingsDep
from assistant.api.errors import ErrorBody
from assistant.api.models import FeedbackCreated, FeedbackRequest
from assistant.api.strict import save_feedback

router = APIRouter(tags=["feedback"])


@router.post("/feedback", response_model=FeedbackCreated, status_code=201, responses={503: {"model": ErrorBody}})
def feedback(body: FeedbackRequest, store: FeedbackDep, settings: SettingsDep) -> FeedbackCreated:
    return FeedbackCreated(id=save_feedback(store, body, settings))
