"""Hybrid retrieval: dense search and BM25 over the committed chunks, fused, with boosts for identifiers people
type (review names, minute numbers, abbreviations, places). Dense search is exact up to `dense_exact_max` chunks;
past that, candidates come from one-bit codes of the vectors (or the store's HNSW index) and are scored exactly.

The index is built once from the store and rebuilt only when the
store's committed state changes. A search takes a parsed Query (assistant.query) or a plain string.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time

import bm25s
import numpy as np

from assistant.binary_codes import BinaryCodes
from assistant.evidence import best_sentence_coverage
from assistant.query import Query
from assistant.query.identifiers import years_in
from assistant.retrieval.index import (
    RRF_K,
    _build_index,
    _codable,
    _Index,
    _IndexCache,
    _norm,
    _rrf,
    _top,
    typical,
)
from assistant.retrieval.rerank import (
    FEATURES,
    SENTENCES,
    Reranker,
    Signals,
    boost_components,
    candidate_features,
    hand_set_boost,
)
from core.embeddings import Embedder
from core.errors import EmptyKnowledgeBase
from core.glossary import Glossary
from core.store import ChunkStore
from core.text import terms
from core.types import Chunk, Filters, SearchHit

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)


class Retriever:
    """Hybrid search. `fusion="weighted"` combines normalised dense and BM25 scores (measured better on the dev
    set than reciprocal-rank fusion, which stays available as `fusion="rrf"`); the top `rerank_depth` are then
    reranked by how much of the question their best sentence covers."""

    def __init__(
        self,
        *,
        store: ChunkStore,
        embedder: Embedder,
        glossary: Glossary,
        dense_exact_max: int = 30_000,
        dense_candidates: int = 2000,
        dense_index: str = "binary",
        fusion: str = "weighted",
        dense_weight: float = 0.35,
        rerank_depth: int = 30,
        rerank_weight: float = 0.5,
        home_partnership: str = "",
        background_rebuild_s: float = 5.0,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.glossary = glossary
        self.dense_exact_max = dense_exact_max
        self.dense_candidates = dense_candidates
        if dense_index not in ("binary", "hnsw"):
            raise ValueError(f"dense_index must be 'binary' or 'hnsw', not {dense_index!r}")
        self.dense_index = dense_index
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.rerank_depth = rerank_depth
        self.rerank_weight = rerank_weight
        self.reranker = reranker  # fitted weights over the top candidates; None: the hand-set coverage rerank
        self.home_partnership_name = home_partnership.strip()
        self.home_partnership = self.home_partnership_name.lower()
        self.background_rebuild_s = background_rebuild_s
        self._index: _Index | None = None
        self._lock = threading.Lock()  # held by whoever is building; a background build releases it when done
        self._last_build_s = 0.0
        self._successors: tuple[str, dict[str, set[str]]] = ("", {})

    # ---- index lifecycle -------------------------------------------------------------------------------------
    def refresh(self, *, force: bool = False, wait: bool = True) -> bool:
        """Rebuild the in-memory index if the store changed. Returns True when this call rebuilt it.

        The version check is one small read, whatever the corpus size. The BM25 index is kept under the store's
        cache folder keyed by the store version, so a new process (or another API worker) loads it instead of
        tokenising the whole corpus again.

        With wait=False (what requests use), once an index exists and its last build took at least
        `background_rebuild_s`, the rebuild runs in a background thread and requests keep using the index they
        have: answers come from the previous state of the store until the new index is ready, instead of every
        request waiting minutes on a large corpus. A quicker build (a partnership's own documents) is waited for,
        so an answer right after an ingest already sees it.
        """
        version = self.store.state()
        if not force and self._index is not None and self._index.state == version:
            return False
        if not (wait or force) and self._index is not None and self._last_build_s >= self.background_rebuild_s:
            if self._lock.acquire(blocking=False):  # else a rebuild is already under way
                threading.Thread(target=self._build_in_background, name="pka-index-rebuild", daemon=True).start()
            return False
        with self._lock:
            if not force and self._index is not None and self._index.state == version:
                return False  # another request rebuilt it while this one waited
            self._build(version)
        return True

    def _build_in_background(self) -> None:
        try:
            self._build(self.store.state())
        except Exception:  # noqa: BLE001 - the current index keeps serving and the next request tries again
            log.exception("rebuilding the retrieval index in the background failed")
        finally:
            self._lock.release()

    def _build(self, version: str) -> None:
        """Build the index of the store's committed state (the caller holds the lock)."""
        started = time.perf_counter()
        cache = _IndexCache(getattr(self.store, "cache_dir", None), version)
        # With a usable cache the vectors come from its file; without one they come with the chunks.
        loaded = self.store.load_all(embeddings=not cache.complete())
        chunks = loaded.chunks
        vectors: np.ndarray = loaded.embeddings
        bm25 = None
        df: dict[str, int] = {}
        if chunks:
            ids = [c.chunk_id for c in chunks]
            ids_key = hashlib.blake2b("\n".join(ids).encode(), digest_size=16).hexdigest()
            got = cache.load(ids_key)
            if got is not None:
                bm25, df, vectors = got
            else:
                if vectors.shape[0] != len(chunks):  # the cache was there but not for these chunks
                    vectors = self.store.embeddings_of(ids)
                tokenised = [terms(f"{c.context}\n{c.text}") or ["_"] for c in chunks]
                for toks in tokenised:
                    for t in set(toks):
                        df[t] = df.get(t, 0) + 1
                bm25 = bm25s.BM25()
                bm25.index(tokenised, show_progress=False)
                del tokenised
                vectors = cache.save(bm25, df, vectors, ids_key)
        del loaded
        codes = None
        if self.dense_index == "binary" and len(chunks) > self.dense_exact_max and _codable(vectors, len(chunks)):
            codes = BinaryCodes.build(vectors)
        self._index = _build_index(version, chunks, vectors, bm25, df, codes)
        self._last_build_s = time.perf_counter() - started
        log.info("retrieval index built: %d chunks in %.1f s", len(chunks), self._last_build_s)

    @property
    def state(self) -> str:
        """The store state (ChunkStore.state()) the in-memory index was built from."""
        if self._index is None:
            self.refresh()
        assert self._index is not None  # refresh() always sets it
        return self._index.state

    @property
    def chunks(self) -> list[Chunk]:
        if self._index is None:
            self.refresh()
        assert self._index is not None  # refresh() always sets it
        return self._index.chunks

    def idf(self, term: str) -> float:
        index = self._index
        if index is None:
            return 1.0
        n, df = len(index.chunks), index.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def next_chunk(self, chunk: Chunk) -> Chunk | None:
        """The chunk that follows this one in its document, if any."""
        index = self._index
        if index is None:
            return None
        pos = index.position.get(chunk.chunk_id)
        if pos is None or pos + 1 >= len(index.chunks):
            return None
        nxt = index.chunks[pos + 1]
        return nxt if nxt.doc_id == chunk.doc_id else None

    def chunk_by_id(self, chunk_id: str) -> Chunk | None:
        chunks = self.chunks  # builds the index if needed
        assert self._index is not None  # for mypy: the line above sets it
        pos = self._index.position.get(chunk_id)
        return chunks[pos] if pos is not None else None

    def docs_naming_review(self, name: str) -> set[str]:
        """The documents with a passage that names the review ("child z")."""
        index = self._index
        if index is None:
            return set()
        hits = index.review_postings.get(name)
        return {index.chunks[int(i)].doc_id for i in hits} if hits is not None else set()

    def mentions_year(self, years: set[int], doc_ids: frozenset[str] | None = None) -> bool:
        """Whether any passage (of the given documents) names one of the years. Over the whole store this reads
        the index's document frequencies; within a scope, the scope's passages."""
        index = self._index
        if index is None:
            return False
        if doc_ids is None:
            return any(index.df.get(t, 0) for y in years for t in terms(str(y)))
        rows = np.flatnonzero(index.doc_mask(doc_ids))
        return any(years & years_in(index.chunks[int(i)].text) for i in rows)

    # ---- search ----------------------------------------------------------------------------------------------
    def search(
        self,
        query: str | Query,
        *,
        top_k: int = 5,
        filters: Filters | None = None,
        doc_ids: set[str] | frozenset[str] | None = None,
    ) -> list[SearchHit]:
        """The best `top_k` passages for a question (a parsed Query, or its text), among the chunks `filters`
        accept and, when `doc_ids` is given, of those documents only (the scope of a question naming a place)."""
        parsed = query if isinstance(query, Query) else None
        query = query.standalone if isinstance(query, Query) else query
        if self._index is None:
            self.refresh()
        index = self._index
        assert index is not None  # refresh() always sets it
        n = len(index.chunks)
        if n == 0 or index.bm25 is None:
            raise EmptyKnowledgeBase()
        mask = np.ones(n, dtype=bool)
        filtered = filters is not None and not filters.is_empty()
        if filters is not None and filtered:
            mask = index.filter_mask(filters)
        if doc_ids is not None:
            mask = mask & index.doc_mask(doc_ids)
            filtered = True
        if filtered and not mask.any():
            return []
        signals, vector, q_terms = self.signals(query, parsed, index, mask if filtered else None)
        fused = signals.fused.copy()
        fused[~mask] = -np.inf
        k = min(top_k, int(mask.sum()))
        alts = self.glossary.alternatives(query)
        q_unique = list(dict.fromkeys(q_terms))
        reranker = self.reranker
        if reranker is not None and k > 0:
            # The fitted reranker orders the top `depth`; the scores shown stay the hand-set ones (fused plus
            # coverage over the top rerank_depth), the scale the answer step was fitted with.
            order = _top(fused, max(k, reranker.depth))
            texts = [index.chunks[i].text for i in order]
            sentence = SENTENCES.best(self.embedder, vector, texts) if "sentence" in reranker.features else None
            x = candidate_features(index, order, signals, q_unique, self.idf, alts, sentence, parsed or query)
            cut = min(len(order), self.rerank_depth)
            fused[order[:cut]] += self.rerank_weight * x[:cut, FEATURES.index("coverage")]
            order = order[reranker.order(x)]
        else:
            order = _top(fused, max(k, self.rerank_depth))
            if self.rerank_weight and len(order) > 1:
                for i in order:
                    c = index.chunks[i]
                    fused[i] += self.rerank_weight * best_sentence_coverage(
                        c.text, f"{c.context} {c.partnership}", q_unique, self.idf, alts
                    )
                order = order[np.argsort(-fused[order], kind="stable")]
        order = self._current_first(order, index)[:k]
        if index.embeddings.shape[0] == n:  # each hit's own similarity, also where dense search only estimated it
            rows = np.sort(order)  # sorted: memory-mapped rows read in order
            own = dict(zip(rows.tolist(), (index.embeddings[rows] @ vector).tolist(), strict=True))
        else:
            own = {int(i): float(signals.cosine[i]) for i in order}
        return [
            SearchHit(chunk=index.chunks[i], score=float(fused[i]), rank=r + 1, dense=own[int(i)])
            for r, i in enumerate(order)
        ]

    def signals(
        self, query: str, parsed: Query | None, index: _Index, mask: np.ndarray | None
    ) -> tuple[Signals, np.ndarray, list[str]]:
        """Dense and BM25 scores (the question's terms and the glossary expansion's), the identifier boosts, and
        their fusion, over every chunk; with the query vector and the question's terms."""
        n = len(index.chunks)
        allowed = mask if mask is not None else np.ones(n, dtype=bool)
        expansion = self.glossary.expand(query)
        vector = self.embedder.embed_query(f"{query} {expansion}".strip())
        dense = self.dense_scores_of(vector, index, mask)
        q_terms = terms(query)
        x_terms = [t for t in terms(expansion) if t not in q_terms]
        assert index.bm25 is not None  # search() checked
        own = np.asarray(index.bm25.get_scores(q_terms), dtype=np.float32) if q_terms else np.zeros(n, np.float32)
        more = np.asarray(index.bm25.get_scores(x_terms), dtype=np.float32) if x_terms else None
        sparse = own + 0.5 * more if more is not None else own
        components = boost_components(parsed or query, index, self.is_home if self.home_partnership else None)
        signals = Signals(cosine=dense, bm25_own=own, bm25_more=more, allowed=allowed, boosts=components)
        boosts = hand_set_boost(components)
        if self.fusion == "rrf":
            signals.fused = _rrf(dense, allowed) + _rrf(sparse, allowed) + boosts / (RRF_K + 1)
        else:
            a = self.dense_weight
            signals.fused = a * signals.dense + (1 - a) * _norm(sparse, allowed) + 0.2 * boosts
        return signals, vector, q_terms

    def dense_scores_of(self, vector: np.ndarray, index: _Index, mask: np.ndarray | None = None) -> np.ndarray:
        """Cosine similarity of the query vector to the chunks the mask allows (-1 for those it leaves out). Exact when
        at most dense_exact_max chunks are allowed (a selective filter on a large corpus included); past that,
        the `dense_candidates` closest by one-bit code (or, with dense_index="hnsw", the store's HNSW index) are
        scored exactly, and every other allowed chunk gets the median similarity of a fixed sample of allowed
        chunks: what fusion, which scales by the median, would have seen from an exact search."""
        n = len(index.chunks)
        have_vectors = index.embeddings.shape[0] == n
        allowed = None
        if mask is None:
            if have_vectors and n <= self.dense_exact_max:
                return np.asarray(index.embeddings @ vector, dtype=np.float32)
        else:
            allowed = np.flatnonzero(mask)
            if have_vectors and len(allowed) <= self.dense_exact_max:
                scores = np.full(n, -1.0, dtype=np.float32)
                if len(allowed) * 8 > n:  # gathering many scattered rows costs more than one pass over all
                    scores[allowed] = (index.embeddings @ vector)[allowed]
                else:
                    scores[allowed] = index.embeddings[allowed] @ vector
                return scores
        scores = np.full(n, -1.0, dtype=np.float32)
        if have_vectors:
            scores[allowed if allowed is not None else slice(None)] = typical(index.embeddings, vector, allowed)
        if index.codes is not None:  # built only over a full set of vectors
            found = np.sort(index.codes.candidates(vector, self.dense_candidates, mask))  # sorted: mmap reads in order
            scores[found] = index.embeddings[found] @ vector
            return scores
        for cid, sim in self.store.query(vector, self.dense_candidates):
            i = index.position.get(cid)
            if i is not None and (mask is None or mask[i]):
                scores[i] = sim
        return scores

    def _boosts(self, parsed: str | Query, index: _Index) -> np.ndarray:
        """The identifier boosts fusion adds (hand-set weights of assistant.retrieval.rerank's components)."""
        return hand_set_boost(boost_components(parsed, index, self.is_home if self.home_partnership else None))

    def successors(self) -> dict[str, set[str]]:
        """Replaced document id -> the documents whose manifest entries say they replace it (per store version)."""
        version = self.state
        if self._successors[0] != version:
            out: dict[str, set[str]] = {}
            for record in self.store.document_records().values():
                for old in (d.strip() for d in record.meta.supersedes.split(",")):
                    if old:
                        out.setdefault(old, set()).add(record.doc_id)
            self._successors = (version, out)
        return self._successors[1]

    def superseded(self) -> set[str]:
        return set(self.successors())

    def _current_first(self, order: np.ndarray, index: _Index) -> np.ndarray:
        """A replaced document's passages rank after the passages of what replaced it, when both were found; when
        its replacement says nothing on the question, the old document still answers."""
        successors = self.successors()
        if not successors:
            return order
        found = {index.chunks[i].doc_id for i in order}
        demoted = {i for i in order if successors.get(index.chunks[i].doc_id, set()) & found}
        kept = [i for i in order if i not in demoted] + [i for i in order if i in demoted]
        return np.array(kept, dtype=order.dtype)

    def is_current(self, chunk: Chunk) -> bool:
        """False for chunks of a document that another document's manifest entry replaces."""
        return chunk.doc_id not in self.superseded()

    def is_home(self, chunk: Chunk) -> bool:
        """Whether the chunk comes from the partnership this deployment serves."""
        return self.is_home_partnership(chunk.partnership)

    def is_home_partnership(self, partnership: str) -> bool:
        return bool(self.home_partnership) and partnership.strip().lower() == self.home_partnership
