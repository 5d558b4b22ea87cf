"""Threshold objective: balanced (answered answerable + abstained unanswerable) vs correct (answered with a gold
top unit + abstained unanswerable); for the unit-probability rule and the gate."""

import sys

import numpy as np

sys.path.insert(0, "/tmp/sc")
from exp import PT_ITEMS, SEEDS_ITEMS, P, S

from assistant.answer.model import Dataset, fit
from evals.crossval import folds_of


def rows(m, data, groups, gate):
    out = {}
    for g in groups:
        at = data.group == g
        x, y = data.x[at], data.y[at]
        if not at.any():
            out[g] = (0.0, False)
            continue
        p = m.scores(x)
        v = m.decision(x, p)[0] if gate else float(p.max())
        out[g] = (v, bool(y[int(np.argmax(p))]))
    return out


def pick(vals, answerable, objective):
    best_t, best_v = 0.5, -1
    ans = [g for g in vals if answerable[g]]
    una = [g for g in vals if not answerable[g]]
    for t in sorted({v for v, _ in vals.values()}):
        a = np.mean([vals[g][0] >= t and (vals[g][1] or objective == "balanced") for g in ans])
        b = np.mean([vals[g][0] < t for g in una])
        if a + b >= best_v:
            best_t, best_v = t, a + b
    return best_t


for which in ("seeds", "pt"):
    data, extra = (S, P) if which == "seeds" else (P, S)
    items = SEEDS_ITEMS if which == "seeds" else PT_ITEMS
    fold = folds_of(items, 5)
    res = {k: {} for k in ("unit/balanced", "unit/correct", "gate/balanced", "gate/correct")}
    for f in range(5):
        trg = sorted(g for g in data.answerable if fold[g] != f)
        te = [g for g in data.answerable if fold[g] == f]
        full = fit(Dataset.concat([data.subset(set(trg)), extra]))
        inner = {k: {} for k in (True, False)}
        for k in range(3):
            held = [g for i, g in enumerate(trg) if i % 3 == k]
            m = fit(Dataset.concat([data.subset(set(trg) - set(held)), extra]))
            for gate in (True, False):
                inner[gate].update(rows(m, data, held, gate))
        for gate in (True, False):
            outv = rows(full, data, te, gate)
            for obj in ("balanced", "correct"):
                t = pick(inner[gate], data.answerable, obj)
                for g, (v, top) in outv.items():
                    res[f"{'gate' if gate else 'unit'}/{obj}"][g] = (v >= t, top)
    for name, r in res.items():
        ans = [g for g in r if data.answerable[g]]
        una = [g for g in r if not data.answerable[g]]
        a = np.mean([r[g][0] for g in ans])
        ag = np.mean([r[g][0] and r[g][1] for g in ans])
        wrong = np.mean([r[g][0] and not r[g][1] for g in ans])
        b = np.mean([not r[g][0] for g in una])
        print(
            f"{which} {name:14s} answers {a:.2f} answered&top1-gold {ag:.2f} "
            f"answered-wrong {wrong:.2f} abstains {b:.2f}",
            flush=True,
        )
