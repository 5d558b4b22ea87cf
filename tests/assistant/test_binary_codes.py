"""One-bit codes for dense candidate search: distances are Hamming distances of centred sign bits, candidates are
the nearest by code (within a filter), and exact rescoring of them finds the true nearest neighbours."""

from __future__ import annotations

import numpy as np
import pytest

import assistant.binary_codes as binary_codes
from assistant.binary_codes import BinaryCodes


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def clustered() -> np.ndarray:
    """5,000 unit vectors in 128 dimensions: 250 centres, each with noisy copies, all shifted off the origin
    the way sentence embeddings are."""
    rng = np.random.default_rng(5)
    centres = rng.normal(size=(250, 128))
    rows = centres[rng.integers(0, 250, 5000)] + rng.normal(scale=0.6, size=(5000, 128))
    return _unit(rows + 2.0 * rng.normal(size=128))


def test_distances_count_the_sign_bits_that_differ_after_centring(clustered: np.ndarray) -> None:
    codes = BinaryCodes.build(clustered)
    assert codes.words.shape == (2, 5000) and codes.words.dtype == np.uint64
    assert np.allclose(codes.mean, clustered.mean(axis=0), atol=1e-6)
    query = clustered[17]
    want = ((clustered - codes.mean > 0) != (query - codes.mean > 0)).sum(axis=1)
    got = codes.distances(query)
    assert got.dtype == np.uint16 and np.array_equal(got, want)
    assert got[17] == 0


def test_a_build_in_blocks_from_a_memory_mapped_file_equals_one_in_memory(clustered, tmp_path, monkeypatch) -> None:
    whole = BinaryCodes.build(clustered)
    np.save(tmp_path / "v.npy", clustered)
    monkeypatch.setattr(binary_codes, "_BLOCK", 333)  # blocks that do not divide the row count
    mapped = BinaryCodes.build(np.load(tmp_path / "v.npy", mmap_mode="r"))
    assert np.array_equal(mapped.words, whole.words) and np.allclose(mapped.mean, whole.mean, atol=1e-6)


def test_rescoring_the_candidates_finds_the_exact_top_ten(clustered: np.ndarray) -> None:
    codes = BinaryCodes.build(clustered)
    rng = np.random.default_rng(9)
    queries = _unit(clustered[rng.integers(0, 5000, 50)] + rng.normal(scale=0.02, size=(50, 128)))
    hits = 0
    for q in queries:
        found = codes.candidates(q, 200)
        assert 200 <= len(found) <= 400 and len(np.unique(found)) == len(found)
        top = found[np.argsort(-(clustered[found] @ q))[:10]]
        exact = np.argsort(-(clustered @ q))[:10]
        hits += len(set(top.tolist()) & set(exact.tolist()))
    assert hits / 500 >= 0.95  # 200 candidates of 5,000 (4%)


def test_candidates_stay_inside_the_filter_and_take_all_of_a_small_one(clustered: np.ndarray) -> None:
    codes = BinaryCodes.build(clustered)
    query = clustered[3]
    mask = np.zeros(5000, dtype=bool)
    mask[::7] = True
    found = codes.candidates(query, 100, mask)
    assert mask[found].all() and 100 <= len(found) <= 200
    dist = codes.distances(query)
    left_out = np.setdiff1d(np.flatnonzero(mask), found)
    assert dist[found].max() <= dist[left_out].min()  # nothing left out inside the filter is nearer
    few = np.zeros(5000, dtype=bool)
    few[[1, 50, 4999]] = True
    assert codes.candidates(query, 100, few).tolist() == [1, 50, 4999]
    assert len(codes.candidates(query, 100, np.zeros(5000, dtype=bool))) == 0
    assert len(codes.candidates(query, 0)) == 0


def test_ties_at_the_cut_off_are_capped_at_twice_k() -> None:
    rng = np.random.default_rng(2)
    same = np.repeat(_unit(rng.normal(size=(1, 64))), 1000, axis=0)  # a thousand identical vectors
    rows = np.concatenate([same, _unit(rng.normal(size=(1000, 64)))])
    codes = BinaryCodes.build(rows)
    found = codes.candidates(same[0], 50)
    assert 50 <= len(found) <= 100 and (found < 1000).all()


def test_a_dimension_that_does_not_fill_64_bit_words_is_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 64"):
        BinaryCodes.build(np.ones((3, 100), dtype=np.float32))
