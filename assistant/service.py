"""AssistantService: search and ask over the store, with follow-up resolution and extractive answers.

Imports: stdlib, core, assistant. Built once per process by build_service(); the API and CLI share it.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.answer.model import AnswerModel
from assistant.compose import Composer, Composition
from assistant.conversation import standalone
from assistant.generate import Generator, OnToken, build_generator
from assistant.retrieval import Retriever
from assistant.safeguarding import Safeguarding, is_urgent
from assistant.security import redact
from core.config import Settings
from core.embeddings import Embedder, build_embedder
from core.errors import NotFound
from core.glossary import Glossary
from core.store import ChunkStore, DocumentRecord, open_store
from core.types import Answer, Filters, SearchHit

log = logging.getLogger(__name__)


@dataclass
class AssistantService:
    settings: Settings
    store: ChunkStore
    embedder: Embedder
    retriever: Retriever
    glossary: Glossary
    safeguarding: Safeguarding
    generator: Generator | None = None  # set when PKA_LLM_BASE_URL is: generative answers with enforced citations
    answer_model: AnswerModel | None = None  # the answer scorer; None: the fitted one shipped in the package

    def search(
        self, query: str, *, top_k: int = 5, filters: Filters | None = None, history: list | None = None
    ) -> list[SearchHit]:
        self.retriever.refresh(wait=False)
        return self.retriever.search(standalone(query, history or []), top_k=top_k, filters=filters)

    def ask(
        self,
        question: str,
        *,
        history: list | None = None,
        filters: Filters | None = None,
        on_token: OnToken | None = None,
    ) -> Answer:
        """Answer from the documents. With an LLM configured (PKA_LLM_BASE_URL) the model writes the answer and
        its citations are enforced (assistant.generate); its raw text goes to on_token as it arrives."""
        t0 = time.perf_counter()
        self.retriever.refresh(wait=False)
        query = standalone(question, history or [])
        hits = self.retriever.search(query, top_k=self.settings.answer_passages, filters=filters)
        t1 = time.perf_counter()
        result = None if filters is not None and not filters.is_empty() else self.safeguarding.answer(query)
        composed = result is None
        if result is None:
            result = self.composer().compose(query, hits)
        mode, fallback_reason, generate_ms, tg = "extractive", None, {}, time.perf_counter()
        if composed and self.generator is not None:
            outcome = self.generator.answer(
                question=question, standalone=query, hits=hits, extractive=result, on_token=on_token
            )
            result, mode, fallback_reason, generate_ms = (
                outcome.result,
                outcome.mode,
                outcome.fallback_reason,
                outcome.timings_ms,
            )
        tg = time.perf_counter() - tg  # the model's share, reported as "generate" and "enforce", not "compose"
        urgent = is_urgent(question)
        text = result.answer + self._currency_notes(result)
        if urgent:
            # A live concern about a child: the fixed signposting comes first, then what the documents say.
            text = f"{self.safeguarding.signposting.text(self.retriever.home_partnership_name)}\n\n" + (
                f"**What the knowledge base says:**\n{text}"
            )
        t2 = time.perf_counter()
        if self.settings.log_questions:
            log.info("ask: %s", redact(query))
        return Answer(
            question=question,
            standalone_question=query,
            answer=text,
            abstained=result.abstained,
            citations=result.citations,
            urgent=urgent,
            kind=result.kind,
            mode=mode,
            fallback_reason=fallback_reason,
            timings_ms={
                "retrieve": round((t1 - t0) * 1000, 2),
                "compose": round((t2 - t1 - tg) * 1000, 2),
                **generate_ms,
            },
        )

    def composer(self) -> Composer:
        return Composer(
            self.retriever.idf,
            threshold=self.settings.abstain_threshold,
            alternatives=self.glossary.alternatives,
            neighbour=self.retriever.next_chunk,
            home=self.retriever.is_home,
            current=self.retriever.is_current,
            embed=self.embedder.embed_documents,
            glossary=self.glossary,
            model=self.answer_model,
        )

    def _currency_notes(self, result: Composition) -> str:
        """Say when the quoted sources are old, and name what replaced any superseded term they use."""
        if result.abstained or not result.citations:
            return ""
        notes = []
        years = {c.document_id: self._year_of(c.chunk_id) for c in result.citations}
        stale = self.settings.stale_after_years
        this_year = datetime.date.today().year
        old = sorted({y for y in years.values() if y is not None and stale and this_year - y > stale})
        if old:
            notes.append(
                f"Note: this comes from a document of {', '.join(map(str, old))}; check it is still current "
                "(newer procedures or reports may have replaced it)."
            )
        quoted = " ".join(c.quote for c in result.citations)
        for term in self.glossary.old_terms_in(quoted):
            notes.append(f"Note: “{term.term}” ({term.expansion}) has been replaced by {term.replaced_by}.")
        return "\n\n" + "\n".join(notes) if notes else ""

    def _year_of(self, chunk_id: str) -> int | None:
        chunk = self.retriever.chunk_by_id(chunk_id)
        return chunk.year if chunk is not None else None

    def documents(self) -> list[DocumentRecord]:
        return sorted(self.store.document_records().values(), key=lambda r: r.doc_id)

    def document(self, doc_id: str) -> tuple[DocumentRecord, str]:
        record = self.store.document_records().get(doc_id)
        text = self.store.document_text(doc_id) if record else None
        if record is None or text is None:
            raise NotFound(f"No document with id {doc_id!r}.")
        return record, text


def _manifest_home(knowledge_dir: Path) -> str:
    path = knowledge_dir / "manifest.yaml"
    if not path.exists():
        return ""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return ""  # ingest reports a broken manifest; answering does not need it
    return str(data.get("home_partnership", "") or "") if isinstance(data, dict) else ""


def build_retriever(settings: Settings, *, store: ChunkStore, embedder: Embedder, glossary: Glossary) -> Retriever:
    return Retriever(
        store=store,
        embedder=embedder,
        glossary=glossary,
        dense_exact_max=settings.dense_exact_max,
        dense_candidates=settings.dense_candidates,
        dense_index=settings.dense_index,
        background_rebuild_s=settings.background_rebuild_s,
        fusion=settings.fusion,
        dense_weight=settings.dense_weight,
        rerank_depth=settings.rerank_depth,
        rerank_weight=settings.rerank_weight,
        home_partnership=settings.home_partnership or _manifest_home(Path(settings.knowledge_dir)),
    )


def build_service(settings: Settings, *, embedder: Embedder | None = None) -> AssistantService:
    embedder = embedder or build_embedder(settings)
    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    glossary = Glossary.load(Path(settings.knowledge_dir) / "glossary.yaml")
    retriever = build_retriever(settings, store=store, embedder=embedder, glossary=glossary)
    knowledge = Path(settings.knowledge_dir)
    safeguarding = Safeguarding(
        retriever, themes_path=knowledge / "themes.yaml", signposting_path=knowledge / "signposting.yaml"
    )
    return AssistantService(
        settings=settings,
        store=store,
        embedder=embedder,
        retriever=retriever,
        glossary=glossary,
        safeguarding=safeguarding,
        generator=build_generator(settings),
    )
