import sys

import numpy as np

sys.path.insert(0, "/tmp/sc")
from exp import PT_ITEMS, SEEDS_ITEMS, P, S, fit_hgb, fit_lr, fit_softmax, vetoed

from assistant.answer.model import Dataset
from evals.crossval import folds_of


def only_answerable(d):
    return d.subset({g for g, a in d.answerable.items() if a})


def top1(fitter):
    out = []
    for which in ("seeds", "pt"):
        data, extra = (S, P) if which == "seeds" else (P, S)
        items = SEEDS_ITEMS if which == "seeds" else PT_ITEMS
        fold = folds_of(items, 5)
        hits = []
        for f in range(5):
            tr = Dataset.concat([data.subset({g for g in data.answerable if fold[g] != f}), extra])
            sc = fitter(tr)
            for g in data.answerable:
                if fold[g] != f or not data.answerable[g]:
                    continue
                at = data.group == g
                if not at.any():
                    hits.append(False)
                    continue
                x = data.x[at]
                s = np.where(vetoed(x), -1e9, sc(x))
                hits.append(bool(data.y[at][int(np.argmax(s))]))
        out.append(f"{which} {np.mean(hits):.3f}")
    return " ".join(out)


def zs(f):
    return lambda x: (lambda v: (v - v.mean()) / (v.std() + 1e-9))(f(x))


C = {
    "lr C=1 (shipped)": lambda d: fit_lr(d),
    "lr C=0.05": lambda d: fit_lr(d, 0.05),
    "lr answerable-only": lambda d: fit_lr(only_answerable(d)),
    "softmax l2=1": lambda d: fit_softmax(d),
    "softmax l2=10": lambda d: fit_softmax(d, 10.0),
    "softmax l2=0.1": lambda d: fit_softmax(d, 0.1),
    "lr logit + softmax": lambda d: (lambda a, b: lambda x: np.log(a(x) / (1 - a(x) + 1e-12)) + b(x))(
        fit_lr(d), fit_softmax(d)
    ),
    "hgb depth2 300": lambda d: fit_hgb(d, depth=2, iters=300),
    "hgb answerable-only": lambda d: fit_hgb(only_answerable(d)),
}
for name, f in C.items():
    print(f"{name:24s} {top1(f)}", flush=True)
