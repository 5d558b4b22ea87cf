"""The retrieval index's precomputed lookups give the same boosts as scanning every chunk's text would; dense
search past the exact-search size scores, exactly, the candidates that binary codes or the HNSW index give."""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.retrieval import (
    _ABBREV,
    _MINUTE_NO,
    Retriever,
    _top,
    place_match,
    places,
    review_names,
)
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.glossary import Glossary
from core.store import open_store
from core.text import terms
from core.types import Filters
from ingest.pipeline import ingest_corpus

ROOT = Path(__file__).resolve().parents[2]

QUERIES = [
    "What did the Child Q review teach?",
    "child z and Child Q: what links them?",
    "What was agreed at item 5.2 and 5.2 again?",
    "Minute 3.1 of the board",
    "What does the MASH do, and the LSCB?",
    "What is the role of A&E staff and GPs?",
    "Surrey's independent scrutineer",
    "Compare East Sussex and Rotherham on home education",
    "Who chairs the partnership?",
    "thematic review of neglect",
    "What is CDOP and what is MACE?",
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, HashingEmbedder]:
    return _ingested(ROOT / "knowledge", tmp_path_factory.mktemp("seeds") / "data")


def _ingested(knowledge: Path, data: Path) -> tuple[Settings, HashingEmbedder]:
    """Settings for a hashing-embedder store of `knowledge` in `data`, ingested."""
    settings = Settings(
        knowledge_dir=knowledge,
        data_dir=data,
        embedding_backend="hashing",
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings init kwarg
    )
    embedder = HashingEmbedder()
    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    assert ingest_corpus(settings, embedder=embedder, store=store).ok
    return settings, embedder


def _retriever(settings: Settings, embedder: HashingEmbedder, **kw: object) -> Retriever:
    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    return Retriever(
        store=store,
        embedder=embedder,
        glossary=Glossary.load(settings.knowledge_dir / "glossary.yaml"),
        home_partnership="East Sussex Safeguarding Children Partnership",
        **kw,  # type: ignore[arg-type]
    )


def _scanned_boosts(retriever: Retriever, query: str) -> np.ndarray:
    """The boosts by reading every chunk's text, as the index replaced."""
    chunks = retriever.chunks
    boost = np.zeros(len(chunks), dtype=np.float32)
    wanted_reviews = review_names(query)
    wanted_places = places(query)
    abbrevs = {a.lower().rstrip("s") for a in _ABBREV.findall(query) if len(a) >= 2 and terms(a)}  # no stopwords
    for i, c in enumerate(chunks):
        hay = f"{c.context}\n{c.text}"
        if wanted_reviews & (review_names(c.text) | review_names(c.context)):
            boost[i] += 1.5
        for number in set(_MINUTE_NO.findall(query)):
            if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", hay):
                boost[i] += 1.0
        for abbrev in abbrevs:  # the abbreviation or its plural as a whole word
            if re.search(rf"(?<![\w&']){re.escape(abbrev)}s?(?![\w&'])", hay.lower()):
                boost[i] += 0.3
        have = places(f"{c.title} {c.partnership}")
        if wanted_places:
            boost[i] += 0.8 if place_match(wanted_places, have) else -0.8 if have else 0.0
        elif retriever.is_home(c):
            boost[i] += 0.5
    return boost


def test_boosts_from_the_index_equal_boosts_from_scanning_every_chunk(seeded) -> None:
    retriever = _retriever(*seeded)
    retriever.refresh()
    index = retriever._index
    assert index is not None
    lifted = 0
    for query in QUERIES:
        got = retriever._boosts(query, index)
        want = _scanned_boosts(retriever, query)
        assert np.allclose(got, want), query
        lifted += int((got > 0.5).sum())
    assert lifted > 0  # the queries do name reviews, numbers and places the seeds carry
    assert index.number_postings and index.review_postings


def test_number_postings_ignore_longer_numbers(seeded) -> None:
    retriever = _retriever(*seeded)
    retriever.refresh()
    index = retriever._index
    assert index is not None
    for number, positions in index.number_postings.items():
        for i in positions[:20]:
            c = index.chunks[int(i)]
            assert re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", f"{c.context}\n{c.text}")


def test_past_the_exact_size_dense_search_asks_the_ann_index_unless_a_filter_leaves_few_chunks(
    seeded, monkeypatch
) -> None:
    exact = _retriever(*seeded)
    ann = _retriever(*seeded, dense_exact_max=10, dense_candidates=500, dense_index="hnsw")
    question = "What did the Child Q review teach?"
    top_exact = [h.chunk.chunk_id for h in exact.search(question, top_k=5)]
    asked: list[int] = []
    real_query = ann.store.query
    monkeypatch.setattr(ann.store, "query", lambda v, n, **kw: asked.append(n) or real_query(v, n, **kw))
    top_ann = [h.chunk.chunk_id for h in ann.search(question, top_k=5)]
    assert asked == [500] and top_ann and top_ann[0] == top_exact[0]
    assert ann._index is not None and ann._index.codes is None  # no codes are built for the HNSW path
    # A filter that leaves at most dense_exact_max chunks is searched exactly over those, not through the ANN index
    assert exact._index is not None and ann._index is not None
    by_type = {t: exact._index.filter_mask(Filters(doc_type=t)) for t in {c.doc_type for c in exact.chunks}}
    smallest = min(by_type.values(), key=lambda m: int(m.sum()))
    ann.dense_exact_max = int(smallest.sum())
    assert 0 < ann.dense_exact_max < len(ann.chunks)
    asked.clear()
    vector = ann.embedder.embed_query("child q review learning")
    got = ann.dense_scores_of(vector, ann._index, smallest)
    want = exact.dense_scores_of(vector, exact._index)
    assert asked == [] and np.allclose(got[smallest], want[smallest]) and (got[~smallest] == -1).all()
    # a filter that keeps most chunks scores them in one pass over all vectors: the same scores
    largest = max(by_type.values(), key=lambda m: int(m.sum()))
    assert largest.sum() * 8 > len(ann.chunks)
    ann.dense_exact_max = len(ann.chunks)
    got = ann.dense_scores_of(vector, ann._index, largest)
    assert asked == [] and np.allclose(got[largest], want[largest]) and (got[~largest] == -1).all()
    ann.dense_exact_max = int(smallest.sum())
    # one chunk more than it allows goes back to the ANN index
    ann.dense_exact_max -= 1
    ann.dense_scores_of(vector, ann._index, smallest)
    assert asked == [500]


def test_the_index_cache_keeps_vectors_on_disk_and_a_new_process_maps_them(seeded) -> None:
    first = _retriever(*seeded)
    first.refresh()
    second = _retriever(*seeded)
    second.refresh()
    assert second._index is not None and first._index is not None
    assert isinstance(second._index.embeddings, np.memmap)
    assert np.allclose(np.asarray(second._index.embeddings), np.asarray(first._index.embeddings))


@pytest.mark.parametrize("seed", range(20))
def test_top_equals_a_stable_full_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    scores = rng.integers(0, 6, n).astype(np.float32)  # many ties
    scores[rng.random(n) < 0.3] = -np.inf  # filtered out
    k = int(rng.integers(1, n + 5))
    want = np.argsort(-scores, kind="stable")[:k]
    assert list(_top(scores, k)) == list(want)


def test_past_the_exact_size_binary_codes_pick_candidates_that_are_scored_exactly(seeded, monkeypatch) -> None:
    exact = _retriever(*seeded)
    n = len(exact.chunks)
    k = n // 3
    binary = _retriever(*seeded, dense_exact_max=10, dense_candidates=k)
    binary.refresh()
    assert exact._index is not None and binary._index is not None
    assert exact._index.codes is None  # within the exact size no codes are built
    codes = binary._index.codes
    assert codes is not None and len(codes) == n
    asked: list[int] = []
    monkeypatch.setattr(binary.store, "query", lambda v, k, **kw: asked.append(k) or [])
    by_type = [exact._index.filter_mask(Filters(doc_type=t)) for t in {c.doc_type for c in exact.chunks}]
    mask = max(by_type, key=lambda m: int(m.sum()))
    assert k < mask.sum() < n
    for question in QUERIES:
        vector = binary.embedder.embed_query(question)
        want = exact.dense_scores_of(vector, exact._index)
        for allowed in (np.ones(n, dtype=bool), mask):
            got = binary.dense_scores_of(vector, binary._index, None if allowed.all() else allowed)
            found = codes.candidates(vector, k, None if allowed.all() else allowed)
            assert k <= len(found) <= 2 * k and allowed[found].all()
            # the candidates are scored exactly, the chunks a filter leaves out not at all
            assert np.allclose(got[found], want[found], atol=1e-6) and (got[~allowed] == -1).all()
            # every other allowed chunk gets the median similarity of the allowed (all sampled in a corpus this small)
            rest = np.setdiff1d(np.flatnonzero(allowed), found)
            assert np.allclose(got[rest], np.median(want[allowed]), atol=1e-6)
    assert asked == []  # the store's HNSW index was never asked
    # each hit reports its own similarity, also where dense search only estimated it
    for question in QUERIES:
        vector = binary.embedder.embed_query(f"{question} {binary.glossary.expand(question)}".strip())
        for hit in binary.search(question, top_k=5):
            row = exact._index.embeddings[exact._index.position[hit.chunk.chunk_id]]
            assert hit.dense == pytest.approx(float(row @ vector), abs=1e-5)
    # with as many candidates as chunks, the ranking is exactly the exact search's
    binary.dense_candidates = n
    for question in QUERIES:
        got = [(h.chunk.chunk_id, round(h.score, 5)) for h in binary.search(question, top_k=5)]
        assert got == [(h.chunk.chunk_id, round(h.score, 5)) for h in exact.search(question, top_k=5)]


def _fresh_store(tmp_path: Path) -> tuple[Settings, HashingEmbedder]:
    """A copy of the seeds, ingested: a store the test may add to."""
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    return _ingested(tmp_path / "knowledge", tmp_path / "data")


NEW_TEXT = "# Zebra crossing audit\n\nThe quarzel audit of zebra crossings near schools found nine unsafe sites.\n"


def test_a_slow_rebuild_runs_in_the_background_while_requests_use_the_previous_index(tmp_path, monkeypatch) -> None:
    settings, embedder = _fresh_store(tmp_path)
    retriever = _retriever(settings, embedder, background_rebuild_s=0.0)  # every rebuild counts as slow
    retriever.refresh()
    before = retriever.state
    (settings.knowledge_dir / "zebra.md").write_text(NEW_TEXT, encoding="utf-8")
    assert ingest_corpus(settings, embedder=embedder, store=retriever.store).ok
    assert retriever.store.state() != before
    release, started = threading.Event(), threading.Event()
    real_load = retriever.store.load_all

    def held_load(**kw: object):  # the store's own return type
        started.set()
        assert release.wait(10)
        return real_load(**kw)

    monkeypatch.setattr(retriever.store, "load_all", held_load)
    # the request does not wait: it is answered from the index it has while the rebuild is held
    assert retriever.refresh(wait=False) is False
    assert started.wait(10)
    assert retriever.refresh(wait=False) is False  # a second request starts no second rebuild
    assert retriever.state == before
    assert all("quarzel" not in h.chunk.text for h in retriever.search("quarzel audit", top_k=3))
    release.set()
    for _ in range(200):  # the rebuild finishes on its own thread
        if retriever.state != before:
            break
        time.sleep(0.05)
    assert retriever.state == retriever.store.state()
    assert "quarzel" in retriever.search("quarzel audit", top_k=1)[0].chunk.text


def test_a_quick_rebuild_is_waited_for_so_an_answer_after_an_ingest_sees_it(tmp_path) -> None:
    settings, embedder = _fresh_store(tmp_path)
    retriever = _retriever(settings, embedder)  # the default: builds under 5 s are waited for
    retriever.refresh()
    (settings.knowledge_dir / "zebra.md").write_text(NEW_TEXT, encoding="utf-8")
    assert ingest_corpus(settings, embedder=embedder, store=retriever.store).ok
    assert retriever.refresh(wait=False) is True
    assert "quarzel" in retriever.search("quarzel audit", top_k=1)[0].chunk.text


def test_a_failed_background_rebuild_keeps_the_index_serving_and_is_tried_again(tmp_path, monkeypatch) -> None:
    settings, embedder = _fresh_store(tmp_path)
    retriever = _retriever(settings, embedder, background_rebuild_s=0.0)
    retriever.refresh()
    before = retriever.state
    (settings.knowledge_dir / "zebra.md").write_text(NEW_TEXT, encoding="utf-8")
    assert ingest_corpus(settings, embedder=embedder, store=retriever.store).ok
    real_load = retriever.store.load_all
    calls: list[int] = []

    def failing_load(**kw: object):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk went away")
        return real_load(**kw)

    monkeypatch.setattr(retriever.store, "load_all", failing_load)
    retriever.refresh(wait=False)
    for _ in range(200):
        if not retriever._lock.locked():
            break
        time.sleep(0.05)
    assert retriever.state == before and retriever.search("quarzel audit", top_k=1)  # still serving
    retriever.refresh(wait=False)  # the next request tries again
    for _ in range(200):
        if retriever.state != before:
            break
        time.sleep(0.05)
    assert len(calls) == 2 and retriever.state == retriever.store.state()
