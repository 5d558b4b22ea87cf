import sys

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, "/tmp/sc")
from exp import PT_ITEMS, SEEDS_ITEMS, P, S

from assistant.answer.model import Dataset, fit
from evals.crossval import folds_of


def cv(which, use_gate=True):
    data, items, extra = (S, SEEDS_ITEMS, P) if which == "seeds" else (P, PT_ITEMS, S)
    fold = folds_of(items, 5)
    res = {}
    for f in range(5):
        tr = data.subset({g for g in data.answerable if fold[g] != f})
        m = fit(Dataset.concat([tr, extra]))
        if not use_gate:
            m.gate = None
        for g in data.answerable:
            if fold[g] != f:
                continue
            at = data.group == g
            x, y = data.x[at], data.y[at]
            p = m.scores(x)
            v, bar = m.decision(x, p)
            top = bool(len(p) and y[int(np.argmax(p))])
            res[g] = (v, bar, top)
    ans = [g for g in res if data.answerable[g]]
    una = [g for g in res if not data.answerable[g]]
    auc = roc_auc_score([1] * len(ans) + [0] * len(una), [res[g][0] for g in ans + una])
    a = np.mean([res[g][0] >= res[g][1] for g in ans])
    b = np.mean([res[g][0] < res[g][1] for g in una])
    t1 = np.mean([res[g][2] for g in ans])
    print(f"{which} gate={use_gate}: AUC {auc:.3f} top1 {t1:.3f} ans {a:.2f} abst {b:.2f} bal {a + b:.2f}", flush=True)


if __name__ == "__main__":
    from assistant.answer.gate import QUESTION_FEATURES, question_features

    import assistant.answer.model as M

    drops = {
        "all": [],
        "no retrieval (fused)": ["fused_max", "fused_best"],
        "no rarest": ["rarest_found", "best_has_rarest", "share_has_rarest"],
        "no coverage": ["coverage_best", "coverage_own_best", "coverage_max", "question_covered"],
        "no dense": ["dense_best", "dense_max"],
        "no margin/log_units": ["margin", "log_units"],
        "p_best only": [f for f in QUESTION_FEATURES if f != "p_best"],
    }
    for name, d in drops.items():
        keep = [i for i, f in enumerate(QUESTION_FEATURES) if f not in d]
        M.question_features = lambda x, p, keep=keep: None if (r := question_features(x, p)) is None else r[keep]
        print("==", name)
        for w in ("seeds", "pt"):
            cv(w, True)
