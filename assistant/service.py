"""AssistantService: search and ask over the store, with follow-up resolution and extractive answers.

Built once per process by build_service(); the API and CLI share it.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from assistant.answer.model import AnswerModel
from assistant.answer_safety import guard_stream, make_safe
from assistant.compose import Composer, Composition
from assistant.coverage import Holdings, not_held, partly_missing_note
from assistant.filtered import check_filtered
from assistant.generate import Generator, OnToken, build_generator
from assistant.query import Query, QueryParser
from assistant.retrieval import Retriever, use_gazetteer
from assistant.retrieval.rerank import Reranker
from assistant.reviews import label as review_label
from assistant.safeguarding import Safeguarding
from assistant.scope import WORDING, PlaceIndex, Scope, generic_abbreviation, load_wording
from assistant.security import redact
from assistant.sources import attribute, currency_notes
from assistant.vector_memo import MemoEmbedder
from core.config import Settings
from core.contracts import URGENT_DOCUMENTS_HEADING
from core.embeddings import Embedder, build_embedder
from core.errors import EmptyKnowledgeBase, NotFound, StoreUnavailable
from core.glossary import Glossary
from core.places import Gazetteer
from core.store import ChunkStore, DocumentRecord, open_store
from core.types import Answer, Citation, Filters, SearchHit

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
    gazetteer: Gazetteer = field(default_factory=Gazetteer)  # knowledge/places.yaml
    wording: dict[str, str] = field(default_factory=lambda: dict(WORDING))  # signposting.yaml `scope:` wording
    urgent: Callable[[str], bool] | None = None  # default: the safeguarding classifier with the service's embedder
    answer_model: AnswerModel | None = None  # the answer scorer; None: the fitted one shipped in the package
    _places: tuple[str, PlaceIndex | None] = ("", None)

    # ---- the question, parsed once ----------------------------------------------------------------------------
    def places(self) -> PlaceIndex:
        """The places and partnerships of the store's documents (rebuilt when the store changes)."""
        version = self.retriever.state
        if self._places[0] != version or self._places[1] is None:
            generic = generic_abbreviation(((t.term, t.expansion) for t in self.glossary.terms), self.gazetteer)
            index = PlaceIndex(self.gazetteer, self.store.document_records().values(), generic=generic)
            self._places = (version, index)
        assert self._places[1] is not None  # set just above
        return self._places[1]

    def parse(self, question: str, history: list | None = None, *, urgent: bool | None = None) -> Query:
        """The question as a typed Query: the one parse every later stage of a request reads. `urgent`, when the
        caller has decided it already (ask decides it first, before anything that reads the store), is used as is."""
        detect = (self.urgent or self.safeguarding.is_urgent) if urgent is None else (lambda _text: urgent)
        return QueryParser(self.places(), urgent=detect).parse(question, history or [])

    def search(
        self, query: str, *, top_k: int = 5, filters: Filters | None = None, history: list | None = None
    ) -> list[SearchHit]:
        self.retriever.refresh(wait=False)
        if self.settings.log_questions:
            log.info("search: %s", redact(query))
        parsed = self.parse(query, history, urgent=False)  # a search shows passages; urgency is ask's concern
        scope = self.places().resolve(parsed)
        return self.retriever.search(parsed, top_k=top_k, filters=filters, doc_ids=scope.doc_ids)

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
        # Urgency is decided first, from the message alone: the signposting never waits on, or fails with, retrieval.
        urgent = self.safeguarding.is_urgent(question)
        tu = time.perf_counter()
        try:
            self.retriever.refresh(wait=False)
            if not self.retriever.chunks:  # nothing ingested: say so (503), before any "holds no documents from …"
                raise EmptyKnowledgeBase()
            parsed = self.parse(question, history, urgent=urgent)
            query = parsed.standalone
            places = self.places()
            scope = places.resolve(parsed)
            result = not_held(parsed, scope, self._holdings(places), self.wording)
            hits: list[SearchHit] = []
            if result is None:
                hits = self.retriever.search(
                    parsed, top_k=self.settings.answer_passages, filters=filters, doc_ids=scope.doc_ids
                )
        except (EmptyKnowledgeBase, StoreUnavailable):
            if not urgent:
                raise
            return self._signposting_only(question, question)
        t1 = time.perf_counter()
        composed = False
        if result is None and (filters is None or filters.is_empty()):
            result = self.safeguarding.answer(parsed, scope.doc_ids)
        if result is None:
            composed = True
            result = self.composer().compose(parsed, hits)
            if filters is not None and not filters.is_empty():  # no answer from passages about something else
                result = check_filtered(query, result, self.safeguarding.reviews(), [h.chunk.text for h in hits])
        mode, fallback_reason, generate_ms, tg = "extractive", None, {}, time.perf_counter()
        if on_token is not None:  # streamed model text shows no contact the signposting does not give
            on_token = guard_stream(on_token, self.safeguarding.signposting)
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
        text = self._with_sources(parsed, scope, result, hits, places)
        # Contacts only from signposting.yaml; "should I refer?" gets the procedure and the DSL, never a "no".
        text, citations = make_safe(
            query,
            text,
            result.citations,
            self.safeguarding.signposting,
            partnership=self._signposting_for(scope, places),
            signposted=urgent,
            abstained=result.abstained,
        )
        if urgent:
            # A live concern about a child: the fixed signposting comes first, then what the documents say.
            text = f"{self.safeguarding.signposting.text(self._signposting_for(scope, places))}\n\n" + (
                f"{URGENT_DOCUMENTS_HEADING}\n{text}"
            )
        t2 = time.perf_counter()
        if self.settings.log_questions:
            log.info("ask: %s", redact(query))
        return Answer(
            question=question,
            standalone_question=query,
            answer=text,
            abstained=result.abstained,
            citations=citations,
            urgent=urgent,
            kind=result.kind,
            mode=mode,
            fallback_reason=fallback_reason,
            timings_ms={
                "urgency": round((tu - t0) * 1000, 2),
                "retrieve": round((t1 - tu) * 1000, 2),
                "compose": round((t2 - t1 - tg) * 1000, 2),
                **generate_ms,
            },
        )

    def _signposting_only(self, question: str, query: str) -> Answer:
        """An urgent message when the documents cannot be searched: the fixed signposting still answers."""
        text = self.safeguarding.signposting.text(self.retriever.home_partnership_name)
        return Answer(
            question=question,
            standalone_question=query,
            answer=f"{text}\n\n(The knowledge base cannot be searched right now, so no documents are quoted.)",
            abstained=True,
            citations=[],
            urgent=True,
            kind="urgent",
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
            embedder_id=self.embedder.model_id,
        )

    # ---- what an answer says about its sources ------------------------------------------------------------------
    def _with_sources(
        self, parsed: Query, scope: Scope, result: Composition, hits: list[SearchHit], places: PlaceIndex
    ) -> str:
        """The answer text, each line saying whose document it quotes when the store holds more than one
        partnership, with a note for places asked about that it holds nothing from, and currency notes."""
        text = result.answer
        if result.abstained or not result.citations:
            return text
        if len(places.partnerships) > 1:
            text = attribute(text, result.citations, lambda c: self._source_label(c, places))
        notes = [partly_missing_note(scope, places, self.wording)] + currency_notes(
            parsed,
            result.citations,
            hits,
            places.docs,
            successors=self.retriever.successors(),
            glossary=self.glossary,
            stale_after_years=self.settings.stale_after_years,
            this_year=datetime.date.today().year,
        )
        notes = [n for n in notes if n]
        return text + ("\n\n" + "\n".join(notes) if notes else "")

    def _signposting_for(self, scope: Scope, places: PlaceIndex) -> str:
        """Whose contacts the urgent signposting gives: the home partnership's, unless the question names only
        other places (then theirs when there is one partnership, else the general advice)."""
        home = self.retriever.home_partnership_name
        if not scope.scoped:
            return home
        named = {places.docs[d].partnership for d in scope.doc_ids or () if d in places.docs}
        if any(self.retriever.is_home_partnership(p) for p in named):
            return home
        return next(iter(named)) if len(named) == 1 else ""

    def _source_label(self, citation: Citation, places: PlaceIndex) -> str:
        info = places.docs.get(citation.document_id)
        return places.label(info.partnership) if info is not None and info.partnership else ""

    def _holdings(self, places: PlaceIndex) -> Holdings:
        def reviews_named(doc_ids: frozenset[str] | None) -> list[str]:
            reviews = self.safeguarding.reviews()
            if doc_ids is not None:
                partnerships = {places.docs[d].partnership for d in doc_ids if d in places.docs}
                reviews = [r for r in reviews if r.doc_id in doc_ids or r.partnership in partnerships]
            return list(dict.fromkeys(review_label(r) for r in reviews))

        def on_subject(parsed: Query) -> list[str]:
            unscoped = Query(text=parsed.text, standalone=parsed.standalone, terms=parsed.terms)
            hits = self.retriever.search(unscoped, top_k=8)
            return list(dict.fromkeys(h.chunk.doc_id for h in hits))[:3]

        return Holdings(
            places=places,
            docs_with_review=self.retriever.docs_naming_review,
            mentions_year=self.retriever.mentions_year,
            reviews_named=reviews_named,
            on_subject=on_subject,
        )

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
        reranker=Reranker.load() if settings.reranker == "fitted" else None,
        home_partnership=settings.home_partnership or _manifest_home(Path(settings.knowledge_dir)),
    )


def build_service(settings: Settings, *, embedder: Embedder | None = None) -> AssistantService:
    # One vector per text per request: urgency, retrieval and the answer scorer embed the message once between them.
    memo = MemoEmbedder(embedder or build_embedder(settings))
    store = open_store(settings, embedder_id=memo.model_id, dim=memo.dim)
    glossary = Glossary.load(Path(settings.knowledge_dir) / "glossary.yaml")
    retriever = build_retriever(settings, store=store, embedder=memo, glossary=glossary)
    knowledge = Path(settings.knowledge_dir)
    safeguarding = Safeguarding(
        retriever, themes_path=knowledge / "themes.yaml", signposting_path=knowledge / "signposting.yaml"
    )
    gazetteer = Gazetteer.load(knowledge / "places.yaml")
    use_gazetteer(gazetteer)  # the places passages and answer checks name, as the retrieval boosts read them
    return AssistantService(
        settings=settings,
        store=store,
        embedder=memo,
        retriever=retriever,
        glossary=glossary,
        safeguarding=safeguarding,
        generator=build_generator(settings),
        gazetteer=gazetteer,
        wording=load_wording(knowledge / "signposting.yaml"),
    )
