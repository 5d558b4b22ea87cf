"""The urgent-concern detector: does a message describe a live risk to a particular child?

A logistic regression over the message's sentence embedding (the service's own embedder, never a second copy)
and structural signals: who is writing (first person), a particular child ("my niece", "a 6 month old on my
caseload"), a child's disclosure, harm words, a live or present framing, and the marks of a knowledge question
(how it opens, words for documents and figures, a hypothetical or past case). The word classes are data
(urgency_data/lexicon.yaml); the fitted weights are data too (urgency_data/weights.json, written by
`pka train-urgent`, assistant/urgency_train.py). With an embedder the weights were not fitted for (the hashing
test double), the structural-only model decides.

Scoring is a dot product: scikit-learn is needed only to train.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from core.embeddings import PACKAGED_MODELS, Embedder
from core.errors import ModelUnavailable

DATA = Path(__file__).with_name("urgency_data")
LEXICON_PATH = DATA / "lexicon.yaml"
WEIGHTS_PATH = DATA / "weights.json"
STRUCTURAL = "structural"  # the model key of the structural-only model

_AGE = re.compile(
    r"\b\d{1,2}\s*(?:-|\s)?(?:years?|yrs?|months?|weeks?|days?)(?:\s*-\s*|\s+)old\b|\b\d{1,2}\s*y/?o\b"
    r"|\baged\s+\d{1,2}\b|\byear\s+\d{1,2}\b|\b\d{1,2}\s*(?:mo|wk)s?\b"
)
_DETERMINER = r"(?:a|an|the|this|that|my|our|his|her|their|one of my|one of our|one of the|some)"
_POSSESSIVE = r"(?:my|our)"
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_PROGRESSIVE = re.compile(r"\b(?:is|are|am|was|were|'s|'re|been)\s+(?:being\s+\w+|\w+ing)\b")
_CLAUSE = re.compile(r"[.?!;:\n]|\s-\s|,\s")


def _pattern(entries: Sequence[str]) -> str:
    alts = []
    for entry in sorted({str(e).strip().lower() for e in entries if str(e).strip()}, key=len, reverse=True):
        stem = entry[:-1] if entry.endswith("*") else entry
        body = r"\s+".join(re.escape(w) for w in stem.split())
        alts.append(body + (r"[\w'-]*" if entry.endswith("*") else ""))
    return "(?:" + "|".join(alts) + ")"


def _word(body: str) -> str:
    return rf"(?<![\w']){body}(?![\w'])"


@dataclass(frozen=True)
class Lexicon:
    classes: dict[str, re.Pattern[str]]
    particular_child: re.Pattern[str]  # "a girl", "one of my pupils", "the 4 week old"
    my_kin: re.Pattern[str]  # "my niece", "our little brother"
    fingerprint: str

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        raw = path.read_bytes()
        data: dict[str, Any] = yaml.safe_load(raw.decode("utf-8")) or {}
        missing = [k for k in _CLASSES if not data.get(k)]
        if missing:
            raise ModelUnavailable(f"{path} lacks the word classes {', '.join(missing)}.")
        sources = {k: _pattern([str(w) for w in data[k]]) for k in _CLASSES}
        return cls(
            classes={k: re.compile(_word(p)) for k, p in sources.items()},
            particular_child=re.compile(_word(rf"{_DETERMINER}\s+(?:[\w'-]+\s+){{0,2}}{sources['child']}")),
            my_kin=re.compile(_word(rf"{_POSSESSIVE}\s+(?:[\w'-]+\s+)?{sources['kin']}")),
            fingerprint=hashlib.sha256(raw).hexdigest(),
        )

    def count(self, name: str, text: str) -> int:
        return len(self.classes[name].findall(text))


_CLASSES = (
    "child",
    "kin",
    "first_person",
    "disclosure",
    "harm",
    "live",
    "question_start",
    "document",
    "hypothetical",
    "past",
    "help",
)

FEATURES = (
    "child",
    "particular_child",
    "my_kin",
    "child_near_first_person",
    "first_person",
    "disclosure",
    "harm",
    "live",
    "progressive",
    "question_start",
    "question_mark",
    "document",
    "hypothetical",
    "past",
    "help",
    "length",
    "particular_child_x_harm",
    "disclosure_x_harm",
    "first_person_x_harm",
    "live_x_harm",
    "help_x_harm",
    "question_x_document",
)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u2018", "'").lower()).strip()


def _near(a: re.Pattern[str], b: re.Pattern[str], text: str, window: int = 40) -> bool:
    """A match of a within `window` characters of a match of b."""
    bs = [m.start() for m in b.finditer(text)]
    return any(abs(m.start() - s) <= window for m in a.finditer(text) for s in bs)


def structural(text: str, lexicon: Lexicon) -> np.ndarray:
    """The structural signals of one message, each in [0, 1], in the order of FEATURES."""
    t = _norm(text)
    c = lexicon.classes
    first_clause = _CLAUSE.split(t, maxsplit=1)[0]
    child = bool(c["child"].search(t))
    particular = bool(_AGE.search(t) or lexicon.particular_child.search(t))
    my_kin = bool(lexicon.my_kin.search(t))
    first = bool(c["first_person"].search(t))
    near = child and _near(c["child"], c["first_person"], t)
    disclosure = bool(c["disclosure"].search(t))
    harm = min(lexicon.count("harm", t), 3) / 3
    live = bool(c["live"].search(t))
    progressive = bool(_PROGRESSIVE.search(t))
    question = bool(c["question_start"].match(first_clause))
    document = min(lexicon.count("document", t), 3) / 3
    hypothetical = bool(c["hypothetical"].search(t))
    past = bool(c["past"].search(t) or _YEAR.search(t))
    help_ = bool(c["help"].search(t))
    length = min(math.log1p(len(t.split())) / math.log1p(60), 1.0)
    values = [
        child,
        particular or my_kin,
        my_kin,
        near,
        first,
        disclosure,
        harm,
        live,
        progressive,
        question,
        "?" in t,
        document,
        hypothetical,
        past,
        help_,
        length,
        (particular or my_kin) * harm,
        disclosure * harm,
        first * harm,
        live * harm,
        help_ * harm,
        question * document,
    ]
    return np.asarray(values, dtype=np.float32)


def structural_matrix(texts: Sequence[str], lexicon: Lexicon) -> np.ndarray:
    return np.stack([structural(t, lexicon) for t in texts]) if texts else np.zeros((0, len(FEATURES)), np.float32)


def model_key(embedder: Embedder | None) -> str:
    """The weights' key for an embedder: the packaged model's name, so both spellings of MiniLM share one."""
    if embedder is None:
        return STRUCTURAL
    return PACKAGED_MODELS.get(embedder.model_id, embedder.model_id)


@dataclass(frozen=True)
class LinearModel:
    """Standardise, dot, sigmoid; urgent when the probability reaches the threshold."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    embedding: bool

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LinearModel:
        return cls(
            mean=np.asarray(d["mean"], np.float64),
            scale=np.asarray(d["scale"], np.float64),
            coef=np.asarray(d["coef"], np.float64),
            intercept=float(d["intercept"]),
            threshold=float(d["threshold"]),
            embedding=bool(d["embedding"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "embedding": self.embedding,
            "threshold": round(self.threshold, 6),
            "intercept": round(self.intercept, 6),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
        }

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(x) - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@lru_cache(maxsize=4)
def _weights(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"The urgent-concern weights {path} cannot be read ({exc}): run `pka train-urgent`."
        ) from exc


class UrgencyDetector:
    """Decides urgency with the model fitted for `embedder` (structural-only when there is none for it)."""

    def __init__(self, embedder: Embedder | None = None, *, weights_path: Path = WEIGHTS_PATH) -> None:
        self.lexicon = Lexicon.load()
        weights = _weights(weights_path)
        if weights.get("lexicon_sha256") != self.lexicon.fingerprint:
            raise ModelUnavailable(
                f"{LEXICON_PATH.name} changed since the urgent-concern weights were fitted: run `pka train-urgent`."
            )
        models = weights.get("models", {})
        key = model_key(embedder)
        if key not in models or (models[key].get("dim") not in (None, getattr(embedder, "dim", None))):
            key = STRUCTURAL
        self.model_key = key
        self.model = LinearModel.from_json(models[key])
        self.embedder = embedder if self.model.embedding else None

    def features(self, texts: Sequence[str]) -> np.ndarray:
        x = structural_matrix(texts, self.lexicon)
        if self.embedder is not None:
            x = np.hstack([self.embedder.embed_documents(list(texts)).astype(np.float32), x])
        return x

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.probability(self.features(texts)) if texts else np.zeros(0)

    def probability(self, text: str) -> float:
        return float(self.probabilities([text])[0])

    def is_urgent(self, text: str) -> bool:
        return bool(text.strip()) and self.probability(text) >= self.model.threshold


_detectors: weakref.WeakKeyDictionary[Any, UrgencyDetector] = weakref.WeakKeyDictionary()
_structural: list[UrgencyDetector] = []
_lock = threading.Lock()


def detector_for(embedder: Embedder | None) -> UrgencyDetector:
    """One detector per embedder object, made on first use (None: the structural-only detector)."""
    with _lock:
        if embedder is None:
            if not _structural:
                _structural.append(UrgencyDetector(None))
            return _structural[0]
        detector = _detectors.get(embedder)
        if detector is None:
            detector = _detectors[embedder] = UrgencyDetector(embedder)
        return detector


def is_urgent(question: str, embedder: Embedder | None = None) -> bool:
    """A message that describes a live risk to a particular child, rather than asking what the documents say.

    Decided by the classifier in assistant.urgency, over `embedder`'s sentence embedding of the message (pass the
    service's own) and structural signals; with no embedder, or one it was not fitted for, by the structural
    signals alone.
    """
    return detector_for(embedder).is_urgent(question)
