"""Offline 5-fold CV of answer-scorer variants on saved features (SEEDS.npz, PT.npz)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score

from assistant.answer.features import FEATURES
from assistant.answer.model import VETOES, Dataset, choose_threshold
from evals.crossval import folds_of
from evals.runner import load_set

R = Path(__file__).resolve().parents[3]  # evals/
SEEDS_ITEMS = load_set(R / "dev.jsonl") + load_set(R / "train.jsonl")
PT_ITEMS = load_set(R / "partnerships.jsonl")
S = Dataset.load(Path(os.environ.get("FEATURES", "/tmp/sc")) / "SEEDS.npz")
P = Dataset.load(Path(os.environ.get("FEATURES", "/tmp/sc")) / "PT.npz")
VETO_IDX = [FEATURES.index(f) for f in VETOES]
FI = {f: i for i, f in enumerate(FEATURES)}


def vetoed(x):
    return x[:, VETO_IDX].max(axis=1) > 0


def groups_rows(data):
    out = {g: np.zeros(0, dtype=int) for g in data.answerable}
    order = np.argsort(data.group, kind="stable")
    gs = data.group[order]
    for g in np.unique(gs):
        out[int(g)] = order[gs == g]
    return out


# ---------------------------------------------------------------- unit scorers: fit(data) -> score(x) ------
def std(data):
    mean = data.x.mean(axis=0)
    scale = data.x.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def fit_lr(data, c=1.0):
    from sklearn.linear_model import LogisticRegression

    mean, scale = std(data)
    lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    lr.fit((data.x - mean) / scale, data.y)
    return lambda x: lr.predict_proba((x - mean) / scale)[:, 1]


def fit_hgb(data, depth=3, iters=150, lr_=0.05, leaf=40):
    from sklearn.ensemble import HistGradientBoostingClassifier

    m = HistGradientBoostingClassifier(
        max_depth=depth,
        max_iter=iters,
        learning_rate=lr_,
        min_samples_leaf=leaf,
        class_weight="balanced",
        l2_regularization=1.0,
        random_state=0,
    )
    m.fit(data.x, data.y)
    return lambda x: m.predict_proba(x)[:, 1]


def fit_softmax(data, l2=1.0):
    """Linear listwise (conditional-logit) ranker: maximise log P(gold units | question) over questions with gold."""
    mean, scale = std(data)
    xs = (data.x - mean) / scale
    ok = ~vetoed(data.x)
    rows = groups_rows(data)
    sel = []
    for r in rows.values():
        r = r[ok[r]]
        if len(r) and data.y[r].any() and not data.y[r].all():
            sel.append(r)
    idx = np.concatenate(sel)
    starts = np.cumsum([0] + [len(r) for r in sel[:-1]])
    X = xs[idx]
    Y = data.y[idx].astype(float)
    qid = np.repeat(np.arange(len(sel)), [len(r) for r in sel])
    d = xs.shape[1]

    def loss(w):
        s = X @ w
        m = np.maximum.reduceat(s, starts)[qid]
        e = np.exp(s - m)
        z = np.add.reduceat(e, starts)
        zp = np.add.reduceat(e * Y, starts)
        total = -(np.log(zp) - np.log(z)).sum()
        coef = e * Y / zp[qid] - e / z[qid]
        grad = -(coef @ X)
        return total + 0.5 * l2 * w @ w, grad + l2 * w

    w = minimize(loss, np.zeros(d), jac=True, method="L-BFGS-B").x
    return lambda x: ((x - mean) / scale) @ w


def fit_pairwise(data, c=1.0, cap=60, seed=0):
    from sklearn.linear_model import LogisticRegression

    mean, scale = std(data)
    xs = (data.x - mean) / scale
    ok = ~vetoed(data.x)
    rng = np.random.default_rng(seed)
    diffs = []
    for r in groups_rows(data).values():
        r = r[ok[r]]
        pos, neg = r[data.y[r] == 1], r[data.y[r] == 0]
        if not len(pos) or not len(neg):
            continue
        pairs = [(p, n) for p in pos for n in neg]
        if len(pairs) > cap:
            pairs = [pairs[i] for i in rng.choice(len(pairs), cap, replace=False)]
        diffs += [xs[p] - xs[n] for p, n in pairs]
    dx = np.asarray(diffs)
    lr = LogisticRegression(C=c, fit_intercept=False, max_iter=2000)
    lr.fit(np.vstack([dx, -dx]), np.r_[np.ones(len(dx)), np.zeros(len(dx))])
    w = lr.coef_[0]
    return lambda x: ((x - mean) / scale) @ w


# ---------------------------------------------------------------- question level ------------------------------
def qfeats(x, s, p):
    """Question-level features from its units' rows x, ranker scores s and pointwise probabilities p."""
    if len(x) == 0:
        return None
    ok = ~vetoed(x)
    if not ok.any():
        return None
    s, p, x = s[ok], p[ok], x[ok]
    o = np.argsort(-s)
    b = o[0]
    s2 = s[o[1]] if len(o) > 1 else s[b] - 5
    return [
        s[b],
        s[b] - s2,
        p[b],
        p.max(),
        x[b, FI["coverage"]],
        x[b, FI["coverage_own"]],
        x[b, FI["dense_unit"]],
        x[:, FI["dense_unit"]].max(),
        x[:, FI["fused_score"]].max(),
        x[b, FI["fused_score"]],
        x[b, FI["question_covered"]],
        x[b, FI["rarest_found"]],
        x[b, FI["unit_has_rarest"]],
        x[:, FI["unit_has_rarest"]].mean(),
        x[:, FI["coverage"]].max(),
        np.log1p(len(s)),
    ]


QF_NAMES = [
    "s_best",
    "margin",
    "p_at_best",
    "p_max",
    "cov_best",
    "own_best",
    "dense_best",
    "dense_max",
    "fused_max",
    "fused_best",
    "q_covered",
    "rarest_found",
    "best_has_rarest",
    "share_has_rarest",
    "cov_max",
    "log_n",
]


def question_table(data, score, prob):
    s_all, p_all = score(data.x), prob(data.x)
    out = {}
    for g, r in groups_rows(data).items():
        out[g] = (qfeats(data.x[r], s_all[r], p_all[r]), r)
    return out


# ---------------------------------------------------------------- a system = ranker + decision -----------------
class System:
    """ranker: unit scores (top-1); decision: P(answer) per question; threshold chosen on inner-fold OOF."""

    def __init__(self, ranker="lr", gate=None, inner=3, gate_c=0.3, feats=None, target="answerable"):
        self.ranker, self.gate, self.inner, self.gate_c, self.feats = ranker, gate, inner, gate_c, feats
        self.target = target

    def _ranker(self, data):
        return {"lr": fit_lr, "hgb": fit_hgb, "soft": fit_softmax, "pair": fit_pairwise}[self.ranker](data)

    def _fit_once(self, data):
        score = self._ranker(data)
        prob = fit_lr(data) if self.gate else score
        return score, prob

    def fit(self, data):
        groups = sorted(data.answerable)
        self.score, self.prob = self._fit_once(data)
        oof_dec = {}
        oof_q = {}
        self._top = {}
        for k in range(self.inner):
            held = {g for i, g in enumerate(groups) if i % self.inner == k}
            tr = data.subset(set(groups) - held)
            sc, pr = self._fit_once(tr)
            te = data.subset(held)
            for g, (qf, r) in question_table(te, sc, pr).items():
                oof_q[g] = qf
                if len(r):
                    x = te.x[r]
                    s_ = np.where(vetoed(x), -1e9, sc(x))
                    self._top[g] = bool(te.y[r][int(np.argmax(s_))])
                else:
                    self._top[g] = False
            if not self.gate:
                for g, v in self._best(te, sc, self.ranker in ("lr", "hgb")).items():
                    oof_dec[g] = v
        if self.gate:
            tgt = (
                data.answerable
                if self.target == "answerable"
                else {g: data.answerable[g] and self._top.get(g, False) for g in data.answerable}
            )
            self._fit_gate(oof_q, tgt)
            oof_dec = {g: self._gate_p(qf) for g, qf in oof_q.items()}
        self.threshold = choose_threshold(oof_dec, {g: data.answerable[g] for g in oof_dec})
        return self

    def _fit_gate(self, oof_q, answerable):
        from sklearn.linear_model import LogisticRegression

        gs = [g for g, q in oof_q.items() if q is not None]
        X = np.asarray([oof_q[g] for g in gs])
        if self.feats is not None:
            X = X[:, self.feats]
        y = np.asarray([answerable[g] for g in gs], dtype=int)
        self.qmean, self.qscale = X.mean(0), X.std(0) + 1e-9
        self.glr = LogisticRegression(C=self.gate_c, class_weight="balanced", max_iter=2000)
        self.glr.fit((X - self.qmean) / self.qscale, y)

    def _gate_p(self, qf):
        if qf is None:
            return 0.0
        v = np.asarray(qf)
        if self.feats is not None:
            v = v[self.feats]
        return float(self.glr.predict_proba(((v - self.qmean) / self.qscale)[None])[0, 1])

    @staticmethod
    def _best(data, score, is_prob):
        s = score(data.x)
        s = np.where(vetoed(data.x), -1e9, s)
        best = dict.fromkeys(data.answerable, -1e9)
        for g, v in zip(data.group.tolist(), s.tolist(), strict=True):
            best[g] = max(best[g], v)
        if is_prob:  # probabilities: a vetoed unit scores 0
            best = {g: max(v, 0.0) for g, v in best.items()}
        return best

    def evaluate(self, data):
        """Per question: (decision value, top-1 gold?, has gold?)."""
        res = {}
        for g, (qf, r) in question_table(data, self.score, self.prob).items():
            x = data.x[r]
            if len(r) == 0:
                res[g] = (0.0, False, False)
                continue
            s = np.where(vetoed(x), -1e9, self.score(x))
            top = bool(data.y[r][int(np.argmax(s))])
            dec = (
                self._gate_p(qf)
                if self.gate
                else (max(float(s.max()), 0.0) if self.ranker in ("lr", "hgb") else float(s.max()))
            )
            res[g] = (dec, top, bool(data.y[r].any()))
        return res


def cv(system_factory, which, k=5):
    data, items, extra = (S, SEEDS_ITEMS, P) if which == "seeds" else (P, PT_ITEMS, S)
    fold = folds_of(items, k)
    res, thr = {}, []
    for f in range(k):
        tr = data.subset({g for g in data.answerable if fold[g] != f})
        te = data.subset({g for g in data.answerable if fold[g] == f})
        sysm = system_factory().fit(Dataset.concat([tr, extra]))
        thr.append(sysm.threshold)
        for g, v in sysm.evaluate(te).items():
            res[g] = (*v, sysm.threshold)
    ans = [g for g in res if data.answerable[g]]
    una = [g for g in res if not data.answerable[g]]
    auc = roc_auc_score([1] * len(ans) + [0] * len(una), [res[g][0] for g in ans + una])
    top1 = np.mean([res[g][1] for g in ans])
    a = np.mean([res[g][0] >= res[g][3] for g in ans])
    b = np.mean([res[g][0] < res[g][3] for g in una])
    # answered correctly: answered and top-1 gold
    ac = np.mean([res[g][0] >= res[g][3] and res[g][1] for g in ans])
    return {"auc": auc, "top1": top1, "ans": a, "abst": b, "bal": a + b, "ans_gold": ac, "thr": thr}


def show(name, fac):
    out = []
    for w in ("seeds", "pt"):
        m = cv(fac, w)
        na, nu = (165, 32) if w == "seeds" else (91, 19)
        out.append(
            f"[good {m['ans_gold'] * na:.0f} "
            f"wrong {(m['ans'] - m['ans_gold']) * na:.0f} false {(1 - m['abst']) * nu:.0f}] "
        )
        out[-1] += (
            f"{w}: AUC {m['auc']:.3f} top1 {m['top1']:.3f} ans {m['ans']:.2f} abst {m['abst']:.2f} "
            f"bal {m['bal']:.2f} ans&gold {m['ans_gold']:.2f}"
        )
    print(f"{name:28s} | " + " | ".join(out), flush=True)


if __name__ == "__main__":
    print(len(SEEDS_ITEMS), len(S.answerable), len(PT_ITEMS), len(P.answerable), S.x.shape, P.x.shape)
    which = sys.argv[1:] or ["base"]
    if "base" in which:
        show("lr (System)", lambda: System("lr"))
    if "rank" in which:
        show("hgb", lambda: System("hgb"))
        show("softmax", lambda: System("soft"))
        show("pairwise", lambda: System("pair"))
    if "softp" in which:
        show("lr, p_at_best", lambda: System("lr", gate=True, feats=[2]))
        show("soft rank, lr p_at_best", lambda: System("soft", gate=True, feats=[2]))
        show("soft rank, lr gate", lambda: System("soft", gate=True))
    if "gate" in which:
        for r in ("lr", "soft"):
            show(f"{r} + gate", lambda r=r: System(r, gate=True))
    if "gate2" in which:
        for r in ("lr", "soft"):
            show(f"{r} + gate(correct)", lambda r=r: System(r, gate=True, target="correct"))
        small = [0, 1, 2, 10, 11, 8]
        for r in ("lr", "soft"):
            show(f"{r} + gate small", lambda r=r: System(r, gate=True, feats=small))
        for c in (0.05, 1.0):
            show(f"soft + gate C={c}", lambda c=c: System("soft", gate=True, gate_c=c))
