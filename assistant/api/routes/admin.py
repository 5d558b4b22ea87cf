"""The /admin routes (an admin key once keys are set, assistant.api.middleware): reload the index, export feedback,
ingest the knowledge folder, delete a document, and list the passages flagged as planted instructions.

Flagged passages never reach answers or search; GET /admin/flagged is the one place they are shown.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from assistant.api.deps import FeedbackDep, JobsDep, ServiceDep, check_doc_id
from assistant.api.errors import ErrorBody
from assistant.api.models import Deleted, FailedFile, FlaggedList, FlaggedPassage, IngestResult, Reloaded
from assistant.feedback import to_csv, to_jsonl
from core.errors import NotFound
from core.records import flagged_row

log = logging.getLogger(__name__)
router = APIRouter(prefix="/admin", tags=["admin"], responses={403: {"model": ErrorBody}})
_EXPORT = {
    "application/x-ndjson": {"schema": {"type": "string", "description": "one JSON object a line"}},
    "text/csv": {"schema": {"type": "string"}},
}


@router.post("/reload", response_model=Reloaded)
def reload(service: ServiceDep) -> Reloaded:
    rebuilt = service.retriever.refresh(force=True)
    return Reloaded(reloaded=rebuilt, chunks=len(service.retriever.chunks))


@router.get(
    "/feedback/export",
    response_class=Response,
    responses={200: {"content": _EXPORT, "description": "Every piece of feedback, as a file to download."}},
)
def export_feedback(store: FeedbackDep, format: Annotated[Literal["jsonl", "csv"], Query()] = "jsonl") -> Response:
    rows = store.rows()
    if format == "csv":
        media, text = "text/csv; charset=utf-8", to_csv(rows)
    else:
        media, text = "application/x-ndjson", to_jsonl(rows)
    return Response(
        content=text,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="feedback.{format}"'},
    )


@router.post("/ingest", response_model=IngestResult, responses={409: {"model": ErrorBody}, 503: {"model": ErrorBody}})
def admin_ingest(service: ServiceDep, jobs: JobsDep) -> IngestResult:
    report = jobs.run(service)
    service.retriever.refresh(force=True)
    if report.stopped is not None:  # disk full or read-only: 503, saying what was and was not stored
        done = f"{len(report.added)} added, {len(report.updated)} updated, {len(report.failed)} not stored"
        raise type(report.stopped)(f"{report.stopped} ({done}.)")
    return IngestResult(
        ok=report.ok,
        files=report.files,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        removed=report.removed,
        failed=[FailedFile(name=n, reason=r) for n, r in report.failed],
        skipped=[FailedFile(name=n, reason=r) for n, r in report.skipped],
        chunks_written=report.chunks_written,
        chunks_total=report.chunks_total,
        seconds={k: round(v, 3) for k, v in report.seconds.items()},
        index_chunks=len(service.retriever.chunks),
        flagged=report.flagged,
        flagged_before=report.flagged_before,
    )


@router.delete(
    "/documents/{doc_id:doc_id}",
    response_model=Deleted,
    responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
def delete_document(doc_id: str, service: ServiceDep, jobs: JobsDep) -> Deleted:
    check_doc_id(doc_id)
    with jobs.lock(service.settings.data_dir / "ingest.lock"):  # not while an ingest is writing
        record = service.store.document_records().get(doc_id)
        if record is None:
            raise NotFound(f"No document with id {doc_id!r}.")
        service.store.delete_document(doc_id)
    service.retriever.refresh(force=True)
    log.info("deleted document %s (%d chunks)", doc_id, record.n_chunks)
    return Deleted(deleted=doc_id, chunks=record.n_chunks, index_chunks=len(service.retriever.chunks))


@router.get("/flagged", response_model=FlaggedList)
def flagged(service: ServiceDep) -> FlaggedList:
    chunks = service.store.flagged_chunks()
    documents: dict[str, int] = {}
    for c in chunks:
        documents[c.doc_id] = documents.get(c.doc_id, 0) + 1
    return FlaggedList(passages=[FlaggedPassage.model_validate(flagged_row(c)) for c in chunks], documents=documents)
