import sys

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, "/tmp/sc")
from assistant.answer.gate import QUESTION_FEATURES, question_features
from exp import PT_ITEMS, SEEDS_ITEMS, P, S

import assistant.answer.model as M
from assistant.answer.model import Dataset, fit
from evals.crossval import folds_of

VARIANTS = {"all": [], "no rarest": ["rarest_found", "best_has_rarest", "share_has_rarest"]}


def use(name):
    keep = [i for i, f in enumerate(QUESTION_FEATURES) if f not in VARIANTS[name]]
    M.question_features = lambda x, p, keep=keep: None if (r := question_features(x, p)) is None else r[keep]


def decide(m, data, groups):
    out = {}
    for g in groups:
        at = data.group == g
        x = data.x[at]
        out[g] = m.decision(x, m.scores(x)) if at.any() else (0.0, m.gate_threshold)
    return out


def bal(dec, answerable):
    ans = [g for g in dec if answerable[g]]
    una = [g for g in dec if not answerable[g]]
    return np.mean([dec[g][0] >= dec[g][1] for g in ans]) + np.mean([dec[g][0] < dec[g][1] for g in una])


def auc(dec, answerable):
    gs = list(dec)
    return roc_auc_score([int(answerable[g]) for g in gs], [dec[g][0] for g in gs])


for which in ("seeds", "pt"):
    data, extra = (S, P) if which == "seeds" else (P, S)
    items = SEEDS_ITEMS if which == "seeds" else PT_ITEMS
    fold = folds_of(items, 5)
    res, picks = {}, []
    for f in range(5):
        tr_groups = [g for g in data.answerable if fold[g] != f]
        inner = {g: i % 4 for i, g in enumerate(sorted(tr_groups, key=lambda g: items[g]["id"]))}
        score = {}
        for name in VARIANTS:
            use(name)
            dec = {}
            for k in range(4):
                tr = data.subset({g for g in tr_groups if inner[g] != k})
                m = fit(Dataset.concat([tr, extra]))
                dec.update(decide(m, data, [g for g in tr_groups if inner[g] == k]))
            score[name] = auc(dec, data.answerable) + bal(dec, data.answerable)
        pick = max(score, key=score.get)
        picks.append((pick, {k: round(v, 3) for k, v in score.items()}))
        use(pick)
        m = fit(Dataset.concat([data.subset(set(tr_groups)), extra]))
        res.update(decide(m, data, [g for g in data.answerable if fold[g] == f]))
    print(which, picks)
    print(f"{which} nested: AUC {auc(res, data.answerable):.3f} bal {bal(res, data.answerable):.2f}", flush=True)
