"""The retrieval index of one committed store state: chunks, vectors, BM25, and the lookups built with them
(filter groups, review-name and minute-number postings, each chunk's places), and its on-disk cache.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np

from assistant.binary_codes import BinaryCodes
from assistant.query.identifiers import ABBREV, review_names
from assistant.retrieval.places import learn_places, places
from core.text import terms
from core.types import Chunk, Filters

log = logging.getLogger(__name__)

_ABBREV = ABBREV
RRF_K = 60


@dataclass
class _Index:
    state: str  # the store state (ChunkStore.state()) this index was built from
    chunks: list[Chunk]
    embeddings: np.ndarray  # (n, dim) float32, memory-mapped from the index cache when there is one
    codes: BinaryCodes | None  # one-bit codes of the embeddings, built past the exact-search size
    bm25: bm25s.BM25 | None
    df: dict[str, int]
    position: dict[str, int]
    # Chunks grouped by the fields filters look at (doc_type, partnership, year): a filter is evaluated once per
    # group, not once per chunk, so a filtered search costs about what an unfiltered one does.
    groups: np.ndarray  # group number of each chunk
    group_heads: list[Chunk]  # one chunk of each group
    # Identifiers people type, as postings built once: name or number -> positions of the chunks that carry it.
    review_postings: dict[str, np.ndarray]
    number_postings: dict[str, np.ndarray]
    # Places come from a document's title and partnership: chunks are grouped by those, places kept per group.
    place_groups: np.ndarray
    group_places: list[set[str]]
    # Each chunk's document number, and the documents' ids: a scope (the documents of the partnerships a question
    # names) is a mask evaluated once per document.
    doc_numbers: np.ndarray
    doc_ids: list[str]

    def filter_mask(self, filters: Filters) -> np.ndarray:
        """The chunks `filters` accepts, as a boolean mask: the same answer as Filters.accepts on each chunk."""
        accepted = np.array([filters.accepts(c) for c in self.group_heads] + [False], dtype=bool)
        return accepted[self.groups]

    def doc_mask(self, doc_ids: set[str] | frozenset[str]) -> np.ndarray:
        """The chunks of the given documents, as a boolean mask."""
        accepted = np.array([d in doc_ids for d in self.doc_ids] + [False], dtype=bool)
        return accepted[self.doc_numbers]


# A minute or section number in a chunk: "5.2" in "5.2 Budget" or "item 5.2." but not in "15.2", "5.23" or "1.5.2".
_NUMBER_IN_TEXT = re.compile(r"(?<![\d.])(\d{1,3}\.\d{1,2})(?!\d)")


def _abbreviation_terms(query: str) -> list[list[str]]:
    """The index terms of each abbreviation in a query, singular and plural: [["gp", "gps"], ["mash"]]."""
    out: dict[tuple[str, ...], None] = {}
    for a in {a.lower().rstrip("s") for a in _ABBREV.findall(query) if len(a) >= 2}:
        forms = [t[0] for t in (terms(a), terms(f"{a}s")) if len(t) == 1]
        if forms:
            out[tuple(dict.fromkeys(forms))] = None
    return [list(f) for f in out]


def _postings(keys_per_chunk: list[set[str]]) -> dict[str, np.ndarray]:
    found: dict[str, list[int]] = {}
    for i, keys in enumerate(keys_per_chunk):
        for key in keys:
            found.setdefault(key, []).append(i)
    return {k: np.asarray(v, dtype=np.int32) for k, v in found.items()}


def _build_index(
    version: str,
    chunks: list[Chunk],
    embeddings: np.ndarray,
    bm25: bm25s.BM25 | None,
    df: dict[str, int],
    codes: BinaryCodes | None,
) -> _Index:
    reviews: list[set[str]] = []
    numbers: list[set[str]] = []
    for c in chunks:
        reviews.append(review_names(c.text) | review_names(c.context))
        numbers.append(set(_NUMBER_IN_TEXT.findall(f"{c.context}\n{c.text}")))
    learn_places({c.partnership for c in chunks if c.partnership})
    place_groups, place_heads = _group(chunks, lambda c: (c.title, c.partnership))
    groups, heads = _group(chunks, lambda c: (c.doc_type, c.partnership, c.year))
    doc_numbers, doc_heads = _group(chunks, lambda c: (c.doc_id,))
    return _Index(
        state=version,
        chunks=chunks,
        embeddings=embeddings,
        codes=codes,
        bm25=bm25,
        df=df,
        position={c.chunk_id: i for i, c in enumerate(chunks)},
        groups=groups,
        group_heads=heads,
        review_postings=_postings(reviews),
        number_postings=_postings(numbers),
        place_groups=place_groups,
        group_places=[places(f"{c.title} {c.partnership}") for c in place_heads],
        doc_numbers=doc_numbers,
        doc_ids=[c.doc_id for c in doc_heads],
    )


def typical(vectors: np.ndarray, vector: np.ndarray, allowed: np.ndarray | None, sample: int = 1024) -> float:
    """The median similarity of `vector` to about `sample` of the `allowed` rows (all rows when None), spread
    evenly through the corpus."""
    if allowed is None:
        rows = np.arange(0, vectors.shape[0], max(1, vectors.shape[0] // sample))
    else:
        rows = allowed[:: max(1, len(allowed) // sample)]
    return float(np.median(vectors[rows] @ vector)) if len(rows) else -1.0


def _codable(vectors: np.ndarray, n: int) -> bool:
    return vectors.ndim == 2 and vectors.shape[0] == n and n > 0 and vectors.shape[1] % 64 == 0


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest scores, best first; ties keep position order (as a stable sort would)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    cut = -np.partition(-scores, k - 1)[k - 1]
    if cut == -np.inf:  # fewer than k allowed chunks: all of them, then excluded ones in position order
        finite = np.flatnonzero(scores > -np.inf)
        rest = np.flatnonzero(scores == -np.inf)[: k - len(finite)]
        return np.concatenate([finite[np.argsort(-scores[finite], kind="stable")], rest])
    # everything tied with the k-th score competes by position, as in a stable full sort
    pool = np.flatnonzero(scores >= cut)
    return pool[np.argsort(-scores[pool], kind="stable")][:k]


def _norm(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Scale scores so the median allowed chunk is 0 and the best is 1 (below the median clips to 0)."""
    allowed = scores[mask]
    if allowed.size == 0:
        return np.zeros_like(scores)
    lo, hi = float(np.median(allowed)), float(allowed.max())
    return np.clip((scores - lo) / (hi - lo + 1e-9), 0.0, None).astype(np.float32)


def _rrf(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion term for one ranking, counted only over chunks the filters allow."""
    masked = np.where(mask, scores, -np.inf)
    order = np.argsort(-masked, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[order] = np.arange(1, len(scores) + 1, dtype=np.float32)
    return (1.0 / (RRF_K + ranks)).astype(np.float32)


def _group(chunks: list[Chunk], key_of: Callable[[Chunk], tuple]) -> tuple[np.ndarray, list[Chunk]]:
    """Each chunk's group number under `key_of`, and the first chunk of each group."""
    codes: dict[tuple, int] = {}
    heads: list[Chunk] = []
    groups = np.empty(len(chunks), dtype=np.int32)
    for i, c in enumerate(chunks):
        key = key_of(c)
        g = codes.get(key)
        if g is None:
            g = codes[key] = len(heads)
            heads.append(c)
        groups[i] = g
    return groups, heads


class _IndexCache:
    """What the retriever derives from a committed store state, on disk in a folder named by the store version: the
    BM25 index, document frequencies and the chunk vectors (memory-mapped, so API workers share one copy in the
    page cache). The ordered chunk ids' fingerprint is checked on load, so an index built while the store changed
    under it is never reused."""

    keep = 2  # newest folders kept; older ones are deleted

    def __init__(self, root: Path | None, version: str) -> None:
        self.root = root
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", version)[:64]
        self.path = root / f"index-{safe}" if root is not None else None

    def complete(self) -> bool:
        return self.path is not None and (self.path / "ids.key").exists()

    def load(self, ids_key: str) -> tuple[bm25s.BM25, dict[str, int], np.ndarray] | None:
        if self.path is None or not self.complete():
            return None
        try:
            if (self.path / "ids.key").read_text() != ids_key:
                return None
            bm25 = bm25s.BM25.load(str(self.path), show_progress=False, verbosity=0)
            df = json.loads((self.path / "df.json").read_text())
            vectors = np.load(self.path / "vectors.npy", mmap_mode="r")
        except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
            log.warning("index cache at %s not usable (%s); rebuilding", self.path, exc)
            return None
        log.info("retrieval index loaded from %s", self.path)
        return bm25, {str(k): int(v) for k, v in df.items()}, vectors

    def save(self, bm25: bm25s.BM25, df: dict[str, int], vectors: np.ndarray, ids_key: str) -> np.ndarray:
        """Write the folder; return the vectors memory-mapped from it (or as given, when it cannot be written)."""
        if self.path is None or self.root is None:
            return vectors
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".index-", dir=self.root))
            bm25.save(str(tmp), show_progress=False)
            (tmp / "df.json").write_text(json.dumps(df))
            np.save(tmp / "vectors.npy", np.asarray(vectors, dtype=np.float32))
            (tmp / "ids.key").write_text(ids_key)  # written last: its presence means the folder is complete
            if self.path.exists():
                shutil.rmtree(self.path, ignore_errors=True)
            os.replace(tmp, self.path)
            folders = sorted(self.root.glob("index-*"), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in folders[self.keep :]:
                shutil.rmtree(old, ignore_errors=True)
            for left in [*self.root.glob(".index-*"), *self.root.glob("bm25-*"), *self.root.glob(".bm25-*")]:
                if left.name.startswith("bm25-") or time.time() - left.stat().st_mtime > 3600:
                    shutil.rmtree(left, ignore_errors=True)  # an older layout's folders, or a crashed write's
            return np.load(self.path / "vectors.npy", mmap_mode="r")
        except OSError as exc:  # a read-only or full disk costs a rebuild next start, nothing more
            log.warning("could not save the retrieval index under %s: %s", self.root, exc)
            return vectors
