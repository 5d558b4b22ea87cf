"""K-fold cross-validation of the fitted answer engine: the scorer's weights and its abstention threshold are
fitted on the other folds' items (plus any extra training data) and each item is answered by the model that did
not see it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from assistant.answer.model import Dataset, fit
from assistant.service import AssistantService
from evals.answer_data import candidates_for, dataset
from evals.runner import run_item, summarise


def fitted(service: AssistantService) -> bool:
    """Whether the service's answer step has fitted parameters to cross-validate."""
    return hasattr(service.composer(), "candidates")


def folds_of(items: list[dict[str, Any]], k: int) -> list[int]:
    """Each item's fold, from a hash of its id (stable across runs and independent of file order); a follow-up
    goes with nothing in particular, since its history holds only questions."""
    order = sorted(range(len(items)), key=lambda i: hashlib.sha256(items[i]["id"].encode()).hexdigest())
    fold = [0] * len(items)
    for pos, i in enumerate(order):
        fold[i] = pos % k
    return fold


def collect(service: AssistantService, items: list[dict[str, Any]]) -> Dataset:
    return dataset([candidates_for(service, it) for it in items], items)


def run_crossval(
    service: AssistantService, items: list[dict[str, Any]], *, k: int, data: Dataset, extra: list[Dataset]
) -> dict[str, Any]:
    fold = folds_of(items, k)
    rows: list[dict[str, Any] | None] = [None] * len(items)
    thresholds = []
    try:
        for f in range(k):
            train = data.subset({g for g in range(len(items)) if fold[g] != f})
            model = fit(Dataset.concat([train, *extra]))
            thresholds.append(model.threshold)
            service.answer_model = model
            for g in range(len(items)):
                if fold[g] == f:
                    rows[g] = run_item(service, items[g])
    finally:
        service.answer_model = None
    done = [r for r in rows if r is not None]
    return {"summary": summarise(done), "rows": done, "folds": k, "thresholds": thresholds}
