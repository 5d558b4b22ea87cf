"""The scale benchmarks at tiny sizes, and the scale behaviours they measure: batched ingest, the persisted BM25
index, the cheap store version, device selection."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.service import build_service
from bench.perf import bench_ingest, bench_query, nearest_rank, realistic_embeddings
from core.embeddings import resolve_device
from ingest.pipeline import ingest_corpus


def test_bench_ingest_tiny(tmp_path: Path) -> None:
    result = bench_ingest(120, hashing=True, workdir=tmp_path / "w")
    assert result.chunks >= 120 and result.first_wall > 0 and result.bare_s > 0
    md = result.markdown()
    assert "first ingest throughput" in md and "re-ingest, unchanged corpus" in md


@pytest.mark.integration  # a whole benchmark run: fills and queries real Chroma stores
def test_bench_query_tiny(tmp_path: Path) -> None:
    result = bench_query(300, hashing=True, rounds=1, workdir=tmp_path / "w", ef_values=(16,))
    assert result.chunks == 300
    md = result.markdown()
    for row in ("/search: service.search", "/search filtered", "/ask: service.ask", "recall@10"):
        assert row in md


@pytest.mark.integration  # a whole benchmark run: fills and queries real Chroma stores
def test_bench_query_measures_the_binary_code_path_past_the_exact_size(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PKA_DENSE_EXACT_MAX", "50")
    monkeypatch.setenv("PKA_DENSE_CANDIDATES", "300")
    result = bench_query(300, hashing=True, rounds=1, workdir=tmp_path / "w", ef_values=(16,), asks=False)
    assert "Dense path: one-bit codes, 300 candidates scored exactly" in result.markdown()
    recall = {row.split(" | ")[0]: float(row.split(" | ")[1]) for row in result.recall_rows}
    # as many candidates as chunks: every chunk is scored exactly, so the top 10 is the exact top 10
    assert recall["| retriever dense search: one-bit codes, 300 candidates scored exactly"] == 1.0
    assert recall["| retriever dense search: one-bit codes, 600 candidates scored exactly"] == 1.0
    # half of them: the hashing test embedder's codes miss some, and the measurement must show it
    half = recall["| retriever dense search: one-bit codes, 150 candidates scored exactly"]
    assert 0.0 < half < 1.0
    assert any(k.startswith("| HNSW store.query: ef_search=16") for k in recall)


def test_realistic_embeddings_are_unit_vectors_near_real_ones() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 32)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    out = realistic_embeddings(100, base)
    assert out.shape == (100, 32) and np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    assert np.array_equal(out[:20], base)
    assert (out[20:] @ base.T).max(axis=1).min() > 0.8  # each reused vector stays close to a real one


def test_percentile_is_the_nearest_rank() -> None:
    assert nearest_rank(list(range(1, 101)), 50) == 50 and nearest_rank(list(range(1, 101)), 99) == 99
    assert nearest_rank([3.0, 1.0, 2.0], 50) == 2.0 and nearest_rank([5.0], 99) == 5.0


def test_batch_size_does_not_change_what_is_stored(settings, embedder, tmp_path: Path) -> None:
    from core.store import open_store

    one = settings.model_copy(update={"ingest_batch_chunks": 1, "data_dir": tmp_path / "one"})
    big = settings.model_copy(update={"ingest_batch_chunks": 100_000, "data_dir": tmp_path / "big"})
    results = []
    for s in (one, big):
        store = open_store(s, embedder_id=embedder.model_id, dim=embedder.dim)
        report = ingest_corpus(s, embedder=embedder, store=store)
        assert report.ok and report.seconds["total"] > 0
        loaded = store.load_all()
        results.append(([c.chunk_id for c in loaded.chunks], loaded.embeddings, sorted(report.added)))
    assert results[0][0] == results[1][0] and np.allclose(results[0][1], results[1][1])
    assert results[0][2] == results[1][2]


def test_bm25_index_is_persisted_by_store_version_and_reused(settings, embedder, store) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    first = build_service(settings, embedder=embedder)
    first.retriever.refresh()
    folders = list((settings.data_dir / "index").glob("index-*"))
    assert len(folders) == 1 and (folders[0] / "ids.key").exists()
    second = build_service(settings, embedder=embedder)  # a new process start
    second.retriever.refresh()
    q = "Who chairs the board?"
    a = [(h.chunk.chunk_id, round(h.score, 5)) for h in first.retriever.search(q, top_k=5)]
    b = [(h.chunk.chunk_id, round(h.score, 5)) for h in second.retriever.search(q, top_k=5)]
    assert a == b
    # a commit changes the version: the next refresh builds and keeps a new index (at most two are kept)
    (settings.knowledge_dir / "extra.md").write_text("# Extra\n\nA new paragraph about drones and consent. " * 5)
    ingest_corpus(settings, embedder=embedder, store=store)
    assert second.retriever.refresh()
    assert len(list((settings.data_dir / "index").glob("index-*"))) == 2


def test_a_damaged_bm25_cache_is_rebuilt(settings, embedder, store) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    build_service(settings, embedder=embedder).retriever.refresh()
    folder = next((settings.data_dir / "index").glob("index-*"))
    for f in folder.glob("*.npy"):
        f.write_bytes(b"garbage")
    service = build_service(settings, embedder=embedder)
    service.retriever.refresh()
    assert service.retriever.search("board", top_k=3)


def test_reingest_of_an_unchanged_corpus_reads_no_chunks(settings, embedder, store, monkeypatch) -> None:
    ingest_corpus(settings, embedder=embedder, store=store)
    monkeypatch.setattr(store, "sweep", lambda: pytest.fail("sweep ran on a clean store"))
    monkeypatch.setattr(store, "write_documents", lambda items: pytest.fail("wrote on an unchanged corpus"))
    report = ingest_corpus(settings, embedder=embedder, store=store)
    assert report.chunks_written == 0 and report.unchanged


@pytest.mark.integration  # imports torch (seconds); the fast tier otherwise never does
def test_auto_device_falls_back_to_cpu_and_explicit_devices_are_kept() -> None:
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") in (expected, "mps")
    assert resolve_device("cpu") == "cpu" and resolve_device("cuda:1") == "cuda:1"


def test_filter_mask_by_groups_matches_filters_accepts(settings, embedder, store) -> None:
    from core.types import Filters

    ingest_corpus(settings, embedder=embedder, store=store)
    retriever = build_service(settings, embedder=embedder).retriever
    retriever.refresh()
    index = retriever._index
    years = {c.year for c in index.chunks}
    cases = [Filters(doc_type="minutes"), Filters(year_from=2020), Filters(partnership="sussex")]
    cases += [Filters(year_from=y, year_to=y) for y in years if y]
    for f in cases:
        assert index.filter_mask(f).tolist() == [f.accepts(c) for c in index.chunks]


@pytest.mark.integration  # a whole benchmark run: fills and queries real Chroma stores
def test_bench_query_can_reuse_the_store_it_filled(tmp_path: Path) -> None:
    first = bench_query(200, hashing=True, rounds=1, workdir=tmp_path / "w", ef_values=(16,))
    again = bench_query(200, hashing=True, rounds=1, workdir=tmp_path / "w", ef_values=(16,), reuse=True)
    assert again.chunks == first.chunks == 200 and again.write_s == first.write_s
    assert any("reused" in note for note in again.notes) and not first.notes
    other = bench_query(150, hashing=True, rounds=1, workdir=tmp_path / "w", ef_values=(16,), reuse=True)
    assert other.chunks == 150 and not other.notes  # a different size is written afresh
