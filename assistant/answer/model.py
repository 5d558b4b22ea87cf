"""The fitted scorer: a logistic regression over FEATURES giving P(this unit answers the question), and the
abstention threshold on the best unit's probability. Weights live in answer_model.json (package data) and are
refitted by `pka train-answer`.

scikit-learn is imported only inside fit().
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answer.features import FEATURES

MODEL_PATH = Path(__file__).with_name("answer_model.json")
# A unit about another period than the one asked about cannot answer it (a 2020/21 figure is not the 2021/22 one);
# nor can a unit with no contact detail answer a question asking how to reach someone.
VETOES = ("year_differs", "contact_no_details")


@dataclass
class AnswerModel:
    weights: np.ndarray
    bias: float
    mean: np.ndarray
    scale: np.ndarray
    threshold: float
    info: dict = field(default_factory=dict)
    # The same fit without the dense-similarity features, for an embedder other than the one the dense features
    # were measured with (its similarities are on another scale, so the fitted weights and threshold do not hold).
    lexical: AnswerModel | None = None

    def for_embedder(self, embedder_id: str | None) -> AnswerModel:
        fitted_with = self.info.get("embedder")
        if embedder_id and fitted_with and embedder_id != fitted_with and self.lexical is not None:
            return self.lexical
        return self

    def proba(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.weights + self.bias
        return 1.0 / (1.0 + np.exp(-z))

    def scores(self, x: np.ndarray) -> np.ndarray:
        """proba(), 0 for a unit that cannot answer whatever its other signals (VETOES); what the engine decides
        on, and so what the abstention threshold is chosen on."""
        p = self.proba(x)
        if len(p):
            p = np.where(x[:, [FEATURES.index(f) for f in VETOES]].max(axis=1) > 0, 0.0, p)
        return p

    def to_json(self) -> str:
        return json.dumps(self._data(), indent=1)

    def _data(self) -> dict:
        return {
            "features": list(FEATURES),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "threshold": round(self.threshold, 4),
            "info": self.info,
            **({"lexical": self.lexical._data()} if self.lexical is not None else {}),
        }

    @classmethod
    def from_json(cls, text: str) -> AnswerModel:
        return cls._from_data(json.loads(text))

    @classmethod
    def _from_data(cls, data: dict) -> AnswerModel:
        if list(data["features"]) != list(FEATURES):
            raise ValueError("answer model was fitted on other features; run `pka train-answer`")
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            threshold=float(data["threshold"]),
            info=dict(data.get("info") or {}),
            lexical=cls._from_data(data["lexical"]) if data.get("lexical") else None,
        )

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> AnswerModel:
        return cls.from_json(path.read_text(encoding="utf-8"))


def untrained() -> AnswerModel:
    """A neutral model for a checkout without fitted weights: coverage and dense similarity only."""
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("coverage")] = 2.0
    w[FEATURES.index("dense_unit")] = 2.0
    return AnswerModel(w, -2.0, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), 0.5, {"fitted": False})


_LOADED: dict[tuple[str, float], AnswerModel] = {}


def default_model(path: Path = MODEL_PATH) -> AnswerModel:
    """The shipped model, read once per version of its file; a neutral one when it is missing or stale."""
    try:
        key = (str(path), path.stat().st_mtime)
        if key not in _LOADED:
            _LOADED.clear()
            _LOADED[key] = AnswerModel.load(path)
        return _LOADED[key]
    except (OSError, ValueError, KeyError):
        return untrained()


@dataclass
class Dataset:
    """Rows of FEATURES with labels, the question each row belongs to, and whether that question is answerable."""

    x: np.ndarray
    y: np.ndarray
    group: np.ndarray
    answerable: dict[int, bool]

    def subset(self, groups: set[int]) -> Dataset:
        keep = np.isin(self.group, list(groups))
        return Dataset(self.x[keep], self.y[keep], self.group[keep], {g: self.answerable[g] for g in groups})

    @classmethod
    def concat(cls, parts: list[Dataset]) -> Dataset:
        xs, ys, gs, ans, offset = [], [], [], {}, 0
        for p in parts:
            xs.append(p.x)
            ys.append(p.y)
            gs.append(p.group + offset)
            ans.update({g + offset: a for g, a in p.answerable.items()})
            offset += max(p.answerable, default=-1) + 1
        if not xs:
            return cls(np.zeros((0, len(FEATURES))), np.zeros(0), np.zeros(0, dtype=int), {})
        return cls(np.vstack(xs), np.concatenate(ys), np.concatenate(gs), ans)

    def save(self, path: Path) -> None:
        groups = sorted(self.answerable)
        np.savez_compressed(
            path,
            x=self.x,
            y=self.y,
            group=self.group,
            groups=np.asarray(groups),
            answerable=np.asarray([self.answerable[g] for g in groups]),
        )

    @classmethod
    def load(cls, path: Path) -> Dataset:
        d = np.load(path)
        return cls(d["x"], d["y"], d["group"], dict(zip(d["groups"].tolist(), d["answerable"].tolist(), strict=True)))


def _fit_lr(data: Dataset, c: float) -> AnswerModel:
    from sklearn.linear_model import LogisticRegression

    mean = data.x.mean(axis=0)
    scale = data.x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    lr.fit((data.x - mean) / scale, data.y)
    return AnswerModel(lr.coef_[0].copy(), float(lr.intercept_[0]), mean, scale, 0.5)


def best_per_question(model: AnswerModel, data: Dataset) -> dict[int, float]:
    p = model.scores(data.x)
    best = dict.fromkeys(data.answerable, 0.0)
    for g, v in zip(data.group.tolist(), p.tolist(), strict=True):
        best[g] = max(best[g], v)
    return best


def choose_threshold(best: dict[int, float], answerable: dict[int, bool]) -> float:
    """The threshold on the best unit's probability that maximises balanced accuracy of the answer/abstain
    decision (answered share of answerable + abstained share of unanswerable); ties go to the higher threshold,
    since a confident wrong answer is worse than none."""
    ans = [best[g] for g, a in answerable.items() if a]
    una = [best[g] for g, a in answerable.items() if not a]
    if not ans or not una:
        return 0.5 if not una else max(una) + 1e-6
    best_t, best_v = 0.5, -1.0
    for t in sorted({*ans, *una, 0.0}):
        v = float(np.mean([p >= t for p in ans]) + np.mean([p < t for p in una]))
        if v >= best_v:
            best_t, best_v = t, v
    return float(best_t)


DENSE = ("dense_unit", "dense_unit_rel", "dense_passage")


def fit(data: Dataset, *, c: float = 1.0, inner_folds: int = 3, embedder: str = "") -> AnswerModel:
    """Fit the weights on every row, and the threshold on probabilities each question got from a model that did
    not see it (inner folds over questions). With `embedder` (whose similarities the dense features are), also
    the lexical variant: the same fit with the dense features blanked, used under any other embedder."""
    model = _fit_one(data, c, inner_folds)
    if embedder:
        model.info["embedder"] = embedder
        x = data.x.copy()
        x[:, [FEATURES.index(f) for f in DENSE]] = 0.0
        model.lexical = _fit_one(Dataset(x, data.y, data.group, data.answerable), c, inner_folds)
    return model


def _fit_one(data: Dataset, c: float, inner_folds: int) -> AnswerModel:
    if len(np.unique(data.y)) < 2:
        raise ValueError("training data needs both answering and non-answering units")
    model = _fit_lr(data, c)
    groups = sorted(data.answerable)
    oof: dict[int, float] = {}
    for k in range(inner_folds):
        held = {g for i, g in enumerate(groups) if i % inner_folds == k}
        train = data.subset(set(groups) - held)
        if len(np.unique(train.y)) < 2:
            continue
        inner = _fit_lr(train, c)
        oof.update(best_per_question(inner, data.subset(held)))
    model.threshold = choose_threshold(oof, {g: data.answerable[g] for g in oof}) if oof else 0.5
    model.info = {"fitted": True, "rows": int(len(data.y)), "questions": len(groups), "C": c}
    return model
