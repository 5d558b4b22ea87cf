"""Candidate search over one-bit codes of the chunk vectors, for corpora too large to score every vector exactly.

Each vector becomes 384 bits: the sign of each dimension after the corpus mean is taken away (centring keeps the
bits balanced; MiniLM's dimensions are not centred on zero). A query is compared with every code by Hamming
distance, which reads 48 bytes per chunk instead of 1,536, and the closest few thousand are then scored exactly
on the float vectors. Measured on the 1M-chunk benchmark corpus: recall@10 against exact search 0.97 with 2,000
candidates, in about a tenth of the time of an exact scan.

Codes are stored column-major (one row of N 64-bit words per 64 dimensions), so each step is a long vectorised
pass over contiguous memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BLOCK = 65_536  # vectors packed per step: bounds the temporary memory of a build over a memory-mapped matrix
_FAR = np.uint16(0xFFFF)  # the distance given to chunks a filter leaves out


@dataclass(frozen=True)
class BinaryCodes:
    mean: np.ndarray  # (dim,) float32: the corpus mean, taken away before the sign
    words: np.ndarray  # (dim / 64, n) uint64: bit codes, column-major

    @classmethod
    def build(cls, vectors: np.ndarray) -> BinaryCodes:
        """Codes of every row of `vectors` (any float matrix, memory-mapped included), read in blocks."""
        n, dim = vectors.shape
        if dim % 64:
            raise ValueError(f"binary codes need a dimension that is a multiple of 64, not {dim}")
        total = np.zeros(dim, dtype=np.float64)
        for lo in range(0, n, _BLOCK):
            total += np.asarray(vectors[lo : lo + _BLOCK], dtype=np.float64).sum(axis=0)
        mean = (total / max(n, 1)).astype(np.float32)
        words = np.empty((dim // 64, n), dtype=np.uint64)
        for lo in range(0, n, _BLOCK):
            block = np.asarray(vectors[lo : lo + _BLOCK], dtype=np.float32)
            words[:, lo : lo + len(block)] = _pack(block - mean).T
        return cls(mean=mean, words=words)

    def __len__(self) -> int:
        return self.words.shape[1]

    def distances(self, vector: np.ndarray) -> np.ndarray:
        """Hamming distance from the query's code to every chunk's code (uint16, 0 to dim)."""
        query = _pack((np.asarray(vector, dtype=np.float32) - self.mean)[None, :])[0]
        dist = np.bitwise_count(self.words[0] ^ query[0]).astype(np.uint16)
        for row, word in zip(self.words[1:], query[1:], strict=True):
            dist += np.bitwise_count(row ^ word)
        return dist

    def candidates(self, vector: np.ndarray, k: int, mask: np.ndarray | None = None) -> np.ndarray:
        """Positions of (about) the `k` chunks closest to `vector` by Hamming distance, among those `mask` allows.

        A histogram of the distances gives the cut-off that admits k chunks, which is cheaper than partitioning
        a million distances; chunks tied at the cut-off come too, up to 2k, past which the k closest are kept.
        """
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        allowed = len(self) if mask is None else int(np.count_nonzero(mask))
        if allowed <= k:
            return np.arange(len(self)) if mask is None else np.flatnonzero(mask)
        dist = self.distances(vector)
        if mask is not None:
            dist[~mask] = _FAR  # never under the cut-off below, which is at most dim since allowed > k
        counts = np.cumsum(np.bincount(dist))
        cut = int(np.searchsorted(counts, k))  # the smallest distance with at least k chunks at or below it
        found = np.flatnonzero(dist <= cut)
        if len(found) > 2 * k:
            found = found[np.argpartition(dist[found], k)[:k]]
        return found


def _pack(rows: np.ndarray) -> np.ndarray:
    """(m, dim) floats -> (m, dim / 64) uint64 sign codes."""
    bits = np.packbits(rows > 0, axis=1)  # (m, dim / 8) uint8
    return np.ascontiguousarray(bits).view(np.uint64)
