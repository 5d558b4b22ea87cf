"""Answer iff the best unit clears the unit threshold AND the gate clears a threshold chosen (inner folds) for that
joint rule, vs the shipped unit rule and the gate alone."""

import sys

import numpy as np

sys.path.insert(0, "/tmp/sc")
from exp import PT_ITEMS, SEEDS_ITEMS, P, S

from assistant.answer.model import Dataset, fit
from evals.crossval import folds_of


def vals(m, data, groups):
    out = {}
    for g in groups:
        at = data.group == g
        if not at.any():
            out[g] = (0.0, 0.0, False)
            continue
        x, y = data.x[at], data.y[at]
        p = m.scores(x)
        out[g] = (float(p.max()), m.decision(x, p)[0], bool(y[int(np.argmax(p))]))
    return out


for which in ("seeds", "pt"):
    data, extra = (S, P) if which == "seeds" else (P, S)
    items = SEEDS_ITEMS if which == "seeds" else PT_ITEMS
    fold = folds_of(items, 5)
    res = {"unit": {}, "gate": {}, "unit AND gate": {}, "unit OR gate": {}}
    for f in range(5):
        trg = sorted(g for g in data.answerable if fold[g] != f)
        te = [g for g in data.answerable if fold[g] == f]
        full = fit(Dataset.concat([data.subset(set(trg)), extra]))
        inner = {}
        for k in range(3):
            held = [g for i, g in enumerate(trg) if i % 3 == k]
            m = fit(Dataset.concat([data.subset(set(trg) - set(held)), extra]))
            inner.update(vals(m, data, held))
        tu = full.threshold
        best = {}
        for rule in ("and", "or"):
            bt, bv = 0.5, -1
            for t in sorted({v[1] for v in inner.values()}):
                ok = {
                    g: ((v[0] >= tu) and (v[1] >= t)) if rule == "and" else ((v[0] >= tu) or (v[1] >= t))
                    for g, v in inner.items()
                }
                a = np.mean([ok[g] for g in ok if data.answerable[g]])
                b = np.mean([not ok[g] for g in ok if not data.answerable[g]])
                if a + b >= bv:
                    bt, bv = t, a + b
            best[rule] = bt
        for g, (pb, gp, top) in vals(full, data, te).items():
            res["unit"][g] = (pb >= tu, top)
            res["gate"][g] = (gp >= full.gate_threshold, top)
            res["unit AND gate"][g] = (pb >= tu and gp >= best["and"], top)
            res["unit OR gate"][g] = (pb >= tu or gp >= best["or"], top)
    na = sum(data.answerable.values())
    nu = len(data.answerable) - na
    for name, r in res.items():
        ans = [g for g in r if data.answerable[g]]
        una = [g for g in r if not data.answerable[g]]
        good = sum(r[g][0] and r[g][1] for g in ans)
        wrong = sum(r[g][0] and not r[g][1] for g in ans)
        false = sum(r[g][0] for g in una)
        a = (good + wrong) / na
        b = 1 - false / nu
        print(
            f"{which} {name:14s} good {good:3d} wrong {wrong:3d} false {false:2d} | "
            f"answers {a:.2f} abstains {b:.2f} bal {a + b:.2f}",
            flush=True,
        )
