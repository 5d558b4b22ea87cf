"""An embedder that remembers the vectors of the texts it embedded last, so the stages of one request that embed
the same text (the urgent-concern check, dense retrieval, the answer scorer's question vector) share one vector
instead of running the model again for each.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

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
