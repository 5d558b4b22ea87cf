"""An embedder that remembers the vectors of the texts it embedded last, so the stages of one request that embed
the same text (the urgent-concern check, dense retrieval, the answer scorer's question vector) share one vector
instead of running the model again for each; and a bounded cache of sentence vectors kept between requests.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from core.embeddings import Embedder


class MemoEmbedder:
    """Wraps an Embedder; the last `limit` texts' vectors are kept (least recently used go first). Both the
    embedders here give one vector per text whichever method embeds it, so a query and a document share one."""

    def __init__(self, inner: Embedder, limit: int = 512) -> None:
        self.inner = inner
        self.limit = limit
        self._memo: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim  # read each time: a model's dimension is known once it has loaded

    def __getattr__(self, name: str) -> object:  # load(), batch_size … of the wrapped embedder
        return getattr(self.inner, name)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return self.inner.embed_documents(texts)
        with self._lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
            for t in known:
                self._memo.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            fresh = np.asarray(self.inner.embed_documents(missing), dtype=np.float32)
            with self._lock:
                for t, v in zip(missing, fresh, strict=True):
                    known[t] = v
                    self._memo[t] = v
                    self._memo.move_to_end(t)
                while len(self._memo) > self.limit:
                    self._memo.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        row: np.ndarray = self.embed_documents([text])[0]
        return row


class VectorCache:
    """Vectors by embedder and text, kept between requests so a sentence seen before is not embedded again; cleared
    when `limit` is passed. The embedder is part of the key: one process may hold two (of different dimensions).
    Safe under concurrent requests: what a call needs is gathered locally before the shared dict is touched."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.vectors: dict[tuple[str, str], np.ndarray] = {}

    def get(self, embedder: str, embed: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> np.ndarray:
        """The vectors of `texts` (one row each, in order), embedding only those not kept."""
        wanted = list(dict.fromkeys(texts))
        have = {t: v for t in wanted if (v := self.vectors.get((embedder, t))) is not None}
        missing = [t for t in wanted if t not in have]
        if missing:
            fresh = np.asarray(embed(missing), dtype=np.float32)
            if len(self.vectors) + len(missing) > self.limit:
                self.vectors = {}
            for t, v in zip(missing, fresh, strict=True):
                have[t] = v
                self.vectors[(embedder, t)] = v
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([have[t] for t in texts])
