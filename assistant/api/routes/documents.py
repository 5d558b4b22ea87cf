"""GET /documents, GET /documents/{id} and GET /glossary: what the knowledge base holds."""

from __future__ import annotations

from fastapi import APIRouter

from assistant.api.deps import ServiceDep, check_doc_id
from assistant.api.errors import ErrorBody
from assistant.api.models import DocumentDetail, DocumentSummary, GlossaryTerm, GlossaryTerms
from core.records import DocumentRecord

router = APIRouter(tags=["documents"])


def summary_of(r: DocumentRecord) -> DocumentSummary:
    return DocumentSummary(
        document_id=r.doc_id,
        title=r.meta.title,
        doc_type=r.meta.doc_type,
        partnership=r.meta.partnership,
        date=r.meta.date,
        year=r.meta.year,
        source_url=r.meta.source_url,
        media_type=r.media_type,
        chunks=r.n_chunks,
        chars=r.chars,
    )


@router.get("/documents", response_model=list[DocumentSummary])
def documents(service: ServiceDep) -> list[DocumentSummary]:
    return [summary_of(r) for r in service.documents()]


@router.get("/documents/{doc_id:doc_id}", response_model=DocumentDetail, responses={404: {"model": ErrorBody}})
def document(doc_id: str, service: ServiceDep) -> DocumentDetail:
    check_doc_id(doc_id)
    record, text = service.document(doc_id)
    return DocumentDetail(**summary_of(record).model_dump(), text=text)


@router.get("/glossary", response_model=GlossaryTerms)
def glossary(service: ServiceDep) -> GlossaryTerms:
    return GlossaryTerms(terms=[GlossaryTerm.model_validate(t) for t in service.glossary.as_dicts()])
