"""Fit and cross-validate the urgent-concern detector (assistant/urgency.py) on every labelled message.

Messages: evals/urgent*.jsonl (`{"text", "urgent"}` a line). Features: the sentence embedding and the structural
signals, standardised. Model: scikit-learn's LogisticRegression (liblinear) with class weight `miss_weight` on the
urgent class, so a miss costs more than a false alarm. The regularisation C and the class weight are chosen by an inner
cross-validation on the training messages only, and so is the threshold: the highest one that keeps the inner
out-of-fold recall at `target_recall`, set halfway down to the next score so that near misses fall on the urgent
side. The reported figures are from an outer stratified 10-fold cross-validation, each fold's model, C, weight
and threshold chosen without its test messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.urgency import FEATURES, STRUCTURAL, WEIGHTS_PATH, Lexicon, LinearModel, model_key, structural_matrix
from core.embeddings import Embedder
from core.errors import BadInput

C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
WEIGHT_GRID = (2.0, 5.0, 10.0)
Grid = tuple[tuple[float, ...], tuple[float, ...]]  # (C values, miss weights)
TARGET_RECALL = 0.99
INNER_FOLDS = 5


@dataclass
class Labelled:
    texts: list[str]
    labels: np.ndarray
    sources: list[str]


def load_labelled(folder: Path) -> Labelled:
    """Every labelled message under folder/urgent*.jsonl, each text once (the first label wins)."""
    texts: list[str] = []
    labels: list[int] = []
    sources: list[str] = []
    seen: set[str] = set()
    files = sorted(folder.glob("urgent*.jsonl"))
    if not files:
        raise BadInput(f"No labelled messages: {folder}/urgent*.jsonl not found.")
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text, urgent = str(row["text"]), row["urgent"]
            except (ValueError, KeyError, TypeError) as exc:
                raise BadInput(f"{path}:{n} is not a {{text, urgent}} JSON line ({exc}).") from exc
            if not isinstance(urgent, bool):
                raise BadInput(f"{path}:{n}: 'urgent' must be true or false.")
            key = " ".join(text.lower().split())
            if key in seen or not key:
                continue
            seen.add(key)
            texts.append(text)
            labels.append(int(urgent))
            sources.append(path.name)
    return Labelled(texts=texts, labels=np.asarray(labels), sources=sources)


def _fit(x: np.ndarray, y: np.ndarray, c: float, weight: float) -> tuple[Any, np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-8] = 1.0
    clf = LogisticRegression(C=c, class_weight={0: 1.0, 1: weight}, solver="liblinear", max_iter=5000)
    clf.fit((x - mean) / scale, y)
    return clf, mean, scale


def _scores(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, c: float, weight: float) -> np.ndarray:
    clf, mean, scale = _fit(x_train, y_train, c, weight)
    return clf.predict_proba((x_test - mean) / scale)[:, 1]


def recall_threshold(scores: np.ndarray, y: np.ndarray, target: float = TARGET_RECALL) -> float:
    """The highest threshold whose recall is at least target, moved halfway down to the next lower score."""
    urgent = np.sort(scores[y == 1])
    allowed = int(np.floor((1 - target) * len(urgent) + 1e-9))
    cut = urgent[allowed]
    below = scores[scores < cut]
    return float((cut + below.max()) / 2) if len(below) else float(cut) * 0.5


def _folds(y: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def choose(
    x: np.ndarray, y: np.ndarray, *, target: float = TARGET_RECALL, seed: int = 0, grid: Grid = (C_GRID, WEIGHT_GRID)
) -> dict[str, float]:
    """C, class weight and threshold from an inner cross-validation on (x, y) alone: the fewest inner false alarms
    at the target recall (ties: the smaller C, then the larger weight)."""
    folds = _folds(y, INNER_FOLDS, seed)
    best: tuple[float, float, float, float] | None = None
    for c in grid[0]:
        for weight in grid[1]:
            oof = np.zeros(len(y))
            for tr, te in folds:
                oof[te] = _scores(x[tr], y[tr], x[te], c, weight)
            thr = recall_threshold(oof, y, target)
            false_alarms = float(np.mean(oof[y == 0] >= thr))
            key = (false_alarms, c, -weight, thr)
            if best is None or key < best:
                best = key
    assert best is not None
    return {"C": best[1], "miss_weight": -best[2], "threshold": best[3], "inner_false_alarm_rate": best[0]}


def fit_model(
    x: np.ndarray, y: np.ndarray, *, embedding: bool, seed: int = 0, grid: Grid = (C_GRID, WEIGHT_GRID)
) -> tuple[LinearModel, dict]:
    params = choose(x, y, seed=seed, grid=grid)
    clf, mean, scale = _fit(x, y, params["C"], params["miss_weight"])
    model = LinearModel(
        mean=mean,
        scale=scale,
        coef=clf.coef_[0].astype(np.float64),
        intercept=float(clf.intercept_[0]),
        threshold=params["threshold"],
        embedding=embedding,
    )
    return model, params


@dataclass
class CrossValidation:
    recall: float
    false_alarm_rate: float
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)
    by_source: dict[str, dict[str, float | None]] = field(default_factory=dict)
    folds: int = 10

    def to_json(self) -> dict[str, Any]:
        return {
            "folds": self.folds,
            "recall": round(self.recall, 4),
            "false_alarm_rate": round(self.false_alarm_rate, 4),
            "misses": self.misses,
            "false_alarms": self.false_alarms,
            "by_source": self.by_source,
        }


def cross_validate(
    x: np.ndarray, data: Labelled, *, folds: int = 10, seed: int = 0, grid: Grid = (C_GRID, WEIGHT_GRID)
) -> CrossValidation:
    """Outer stratified k-fold: every message is scored by a model (and threshold) fitted without it."""
    y = data.labels
    flagged = np.zeros(len(y), dtype=bool)
    for tr, te in _folds(y, folds, seed):
        params = choose(x[tr], y[tr], seed=seed, grid=grid)
        scores = _scores(x[tr], y[tr], x[te], params["C"], params["miss_weight"])
        flagged[te] = scores >= params["threshold"]
    src = np.asarray(data.sources)
    by_source = {}
    for name in sorted(set(data.sources)):
        m = src == name
        by_source[name] = {
            "urgent": int((y[m] == 1).sum()),
            "not_urgent": int((y[m] == 0).sum()),
            "recall": round(float(flagged[m & (y == 1)].mean()), 4) if (m & (y == 1)).any() else None,
            "false_alarm_rate": round(float(flagged[m & (y == 0)].mean()), 4) if (m & (y == 0)).any() else None,
        }
    return CrossValidation(
        recall=float(flagged[y == 1].mean()),
        false_alarm_rate=float(flagged[y == 0].mean()),
        misses=[t for t, f, lab in zip(data.texts, flagged, y, strict=True) if lab == 1 and not f],
        false_alarms=[t for t, f, lab in zip(data.texts, flagged, y, strict=True) if lab == 0 and f],
        by_source=by_source,
        folds=folds,
    )


def train(
    embedder: Embedder,
    *,
    folder: Path = Path("evals"),
    out: Path = WEIGHTS_PATH,
    folds: int = 10,
    seed: int = 0,
    grid: Grid = (C_GRID, WEIGHT_GRID),
) -> dict[str, Any]:
    """Cross-validate, then fit on every message and write the weights: one model over the embedder's embeddings
    and the structural signals, one over the structural signals alone (for any other embedder)."""
    data = load_labelled(folder)
    lexicon = Lexicon.load()
    xs = structural_matrix(data.texts, lexicon).astype(np.float64)
    xe = np.hstack([embedder.embed_documents(data.texts).astype(np.float64), xs])
    report: dict[str, Any] = {
        "lexicon_sha256": lexicon.fingerprint,
        "features": list(FEATURES),
        "trained_on": {
            "files": sorted(set(data.sources)),
            "messages": len(data.texts),
            "urgent": int(data.labels.sum()),
            "target_recall": TARGET_RECALL,
            "seed": seed,
            "grid": {"C": list(grid[0]), "miss_weight": list(grid[1])},
        },
        "models": {},
    }
    for key, x, embedding in ((model_key(embedder), xe, True), (STRUCTURAL, xs, False)):
        cv = cross_validate(x, data, folds=folds, seed=seed, grid=grid)
        model, params = fit_model(x, data.labels, embedding=embedding, seed=seed, grid=grid)
        report["models"][key] = {
            **model.to_json(),
            "dim": getattr(embedder, "dim", None) if embedding else None,
            "chosen": params,
            "cross_validation": cv.to_json(),
        }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report
