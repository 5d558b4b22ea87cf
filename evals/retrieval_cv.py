"""Retrieval figures of the fitted reranker, plain and 5-fold cross-validated, on saved candidate features.

For each question of a set, the top `depth` candidates of the fused ranking are scored once (the features of
assistant.retrieval.rerank, the label "holds a gold quote" as evals.metrics.quote_in decides, and whether the
supersedes rule demotes it); today's rank comes from the service's own search. The CV fits the reranker on 4 folds
of every set (folds_of, the answer step's folds) and ranks the held-out fold of each set.

    python -m evals.retrieval_cv collect [CORPUS]  # features of both sets (seeds dev+train; partnerships over the
                                           # seeds + CORPUS, default ../shared/corpora/partnerships) to
                                           # /tmp/pka-eval/rerank-*.npz
    python -m evals.retrieval_cv cv        # the CV table (and failures by kind)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from assistant.retrieval.index import _top
from assistant.retrieval.rerank import MODEL_PATH, SENTENCES, Reranker, candidate_features, fit
from core.text import normalise
from evals.crossval import folds_of
from evals.kb import CACHE_ROOT
from evals.metrics import first_hit_rank, quote_in

SEEDS: tuple[str, list[Path], list[Path]] = ("seeds", [Path("evals/dev.jsonl"), Path("evals/train.jsonl")], [])
PARTNERSHIPS = ("partnerships", [Path("evals/partnerships.jsonl")], [Path("../shared/corpora/partnerships")])
DEPTH = 50


def _may_hold(quote: str, passage: str) -> bool:
    """A quick necessary condition for quote_in: a match needs a common run of at least 25 characters (or the
    whole quote), and such a run contains one of the quote's 12-character pieces taken every 13 characters."""
    q, p = normalise(quote), normalise(passage)
    if len(q) < 25:
        return bool(q) and q in p
    return any(q[j : j + 12] in p for j in range(0, len(q) - 11, 13))


def holds(gold: list[str], passage: str) -> bool:
    return any(_may_hold(q, passage) and quote_in(q, passage) for q in gold)


def features_path(name: str) -> Path:
    return CACHE_ROOT / f"rerank-{name}.npz"


def collect_set(service: Any, items: list[dict[str, Any]], depth: int = DEPTH) -> dict[str, np.ndarray]:
    """Candidate features, labels and demotion flags of every question, and today's rank of its first gold hit."""
    retriever = service.retriever
    retriever.refresh()
    retriever.reranker = None  # today's ranking
    xs, ys, qs, dem, pos = [], [], [], [], []
    base, in_corpus = [], []
    for qi, item in enumerate(items):
        gold = item.get("gold_quotes") or []
        history = item.get("history") or []
        hits = service.search(item["question"], top_k=10, history=history)
        base.append(first_hit_rank(gold, [h.chunk.text for h in hits]) or 0 if gold else 0)
        parsed = service.parse(item["question"], history, urgent=False)
        scope = service.places().resolve(parsed)
        index = retriever._index
        n = len(index.chunks)
        mask = np.ones(n, dtype=bool) if scope.doc_ids is None else index.doc_mask(scope.doc_ids)
        signals, vector, q_terms = retriever.signals(
            parsed.standalone, parsed, index, None if scope.doc_ids is None else mask
        )
        fused = signals.fused.copy()
        fused[~mask] = -np.inf
        order = _top(fused, min(depth, int(mask.sum())))
        q_unique = list(dict.fromkeys(q_terms))
        sentence = SENTENCES.best(retriever.embedder, vector, [index.chunks[i].text for i in order])
        x = candidate_features(
            index,
            order,
            signals,
            q_unique,
            retriever.idf,
            retriever.glossary.alternatives(parsed.standalone),
            sentence,
            parsed,
        )
        successors = retriever.successors()
        found = {index.chunks[i].doc_id for i in order}
        xs.append(x)
        ys += [holds(gold, index.chunks[i].text) for i in order]
        dem += [bool(successors.get(index.chunks[i].doc_id, set()) & found) for i in order]
        qs += [qi] * len(order)
        pos += order.tolist()
        in_corpus.append(bool(gold) and any(holds(gold, c.text) for c in index.chunks))
    return {
        "x": np.vstack(xs),
        "y": np.asarray(ys, dtype=bool),
        "q": np.asarray(qs, dtype=np.int32),
        "demoted": np.asarray(dem, dtype=bool),
        "chunk": np.asarray([index.chunks[i].chunk_id for i in pos]),
        "base_rank": np.asarray(base, dtype=np.int32),
        "in_corpus": np.asarray(in_corpus, dtype=bool),
        "answerable": np.asarray([it["type"] != "unanswerable" for it in items], dtype=bool),
        "ids": np.asarray([it["id"] for it in items]),
        "set": np.asarray([it.get("_set", "") for it in items]),
    }


def collect(partnerships: Path | None = None) -> None:
    """Score and save both sets' candidates; `partnerships`: the corpus partnerships.jsonl asks about."""
    import pickle

    from evals.cli import _load_sets, _service

    memo = CACHE_ROOT / "rerank-sentences.pkl"  # sentence vectors, kept between runs
    if memo.exists():
        SENTENCES.vectors.update(pickle.loads(memo.read_bytes()))
    for name, sets, added in (SEEDS, PARTNERSHIPS):
        added = [partnerships] if added and partnerships is not None else added
        items = _load_sets(sets)
        service, where = _service(Path("knowledge"), added, 0, "markov")
        data = collect_set(service, items)
        np.savez_compressed(features_path(name), allow_pickle=False, **data)
        print(f"{name}: {len(items)} questions, {len(data['y'])} candidates over {where}", flush=True)
    memo.write_bytes(pickle.dumps(SENTENCES.vectors))


def ranks(model: Reranker | None, data: dict[str, np.ndarray], questions: np.ndarray) -> np.ndarray:
    """The rank (1-based; 0 = not in the top 10) of each question's first gold candidate under the model (None:
    today's ranking, from the search itself)."""
    out = np.zeros(len(questions), dtype=np.int32)
    for j, qi in enumerate(questions):
        if model is None:
            out[j] = data["base_rank"][qi]
            continue
        rows = np.flatnonzero(data["q"] == qi)
        if not len(rows):
            continue
        order = rows[model.order(data["x"][rows])]
        order = np.concatenate([order[~data["demoted"][order]], order[data["demoted"][order]]])[:10]
        hit = np.flatnonzero(data["y"][order])
        out[j] = hit[0] + 1 if len(hit) else 0
    return out


def figures(r: np.ndarray) -> tuple[float, float]:
    """hit@5 and MRR@10 over answerable questions (a question without a gold hit in the top 10 counts 0)."""
    if not len(r):
        return 0.0, 0.0
    hit5 = float(np.mean((r > 0) & (r <= 5)))
    mrr = float(np.mean(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0)))
    return hit5, mrr


def _rows_of(data: dict[str, np.ndarray], questions: np.ndarray) -> np.ndarray:
    return np.isin(data["q"], questions)


def fit_on(
    sets: dict[str, dict[str, np.ndarray]], chosen: dict[str, np.ndarray], fitter: Any = None, **kw: Any
) -> Reranker:
    """Fit on the candidates of the given questions of each set."""
    xs, ys, qs = [], [], []
    for s, (name, data) in enumerate(sets.items()):
        keep = _rows_of(data, chosen[name])
        xs.append(data["x"][keep])
        ys.append(data["y"][keep])
        qs.append(data["q"][keep] + 100_000 * s)
    return (fitter or fit)(np.vstack(xs), np.concatenate(ys), np.concatenate(qs), **kw)


GRID = (0.01, 0.1, 1.0)  # the regularisation strengths the inner folds choose among


def crossval(
    sets: dict[str, dict[str, np.ndarray]],
    k: int = 5,
    *,
    within: dict[str, np.ndarray] | None = None,
    grid: tuple[float, ...] = (),
    **kw: Any,
) -> dict[str, np.ndarray]:
    """Each question's rank under the model fitted on the other folds of every set (answerable questions only,
    among `within` when given). With a `grid`, each fold's C is chosen by an inner CV on its own training
    questions (the summed MRR@10 of the sets)."""
    folds = {name: np.asarray(folds_of([{"id": str(i)} for i in d["ids"]], k)) for name, d in sets.items()}
    out = {name: np.zeros(len(d["ids"]), dtype=np.int32) for name, d in sets.items()}
    pool = within or {name: np.flatnonzero(d["answerable"]) for name, d in sets.items()}
    chosen = []
    for f in range(k):
        train = {name: pool[name][folds[name][pool[name]] != f] for name in sets}
        if grid:
            rest = {key: v for key, v in kw.items() if key != "c"}
            kw["c"] = max(grid, key=lambda c: _inner_score(sets, train, c, **rest))
            chosen.append(kw["c"])
        model = fit_on(sets, train, **kw)
        for name, d in sets.items():
            test = pool[name][folds[name][pool[name]] == f]
            out[name][test] = ranks(model, d, test)
    if chosen:
        print(f"C chosen per fold: {chosen}", file=sys.stderr)
    return out


def _inner_score(
    sets: dict[str, dict[str, np.ndarray]], train: dict[str, np.ndarray], c: float, k: int = 4, **kw: Any
) -> float:
    inner = crossval(sets, k, within=train, **{**kw, "c": c})
    return sum(figures(inner[name][train[name]])[1] for name in sets)


def choose_c(sets: dict[str, dict[str, np.ndarray]], **kw: Any) -> float:
    """The C of GRID with the best 5-fold CV over every answerable question (what the shipped model uses)."""
    everything = {name: np.flatnonzero(d["answerable"]) for name, d in sets.items()}
    return max(GRID, key=lambda c: _inner_score(sets, everything, c, k=5, **kw))


def table(sets: dict[str, dict[str, np.ndarray]], **kw: Any) -> list[str]:
    """Today's, the plain (fitted and measured on every question) and the nested-CV figures per set."""
    everything = {name: np.flatnonzero(d["answerable"]) for name, d in sets.items()}
    plain_model = fit_on(sets, everything, c=choose_c(sets, **kw), **kw)
    cv = crossval(sets, grid=GRID, **kw)
    lines = ["| set | n | today hit@5 | today MRR@10 | plain hit@5 | plain MRR@10 | CV hit@5 | CV MRR@10 |"]
    lines.append("|---|---|---|---|---|---|---|---|")
    for name, d in sets.items():
        groups = [(name, d["answerable"])]
        if name == "seeds":
            groups.append(("seeds: train.jsonl", d["answerable"] & (d["set"] == "train")))
        for label, sel in groups:
            qs = np.flatnonzero(sel)
            today = figures(ranks(None, d, qs))
            plain = figures(ranks(plain_model, d, qs))
            held = figures(cv[name][qs])
            lines.append(
                f"| {label} | {len(qs)} | {today[0]:.2f} | {today[1]:.2f} | {plain[0]:.2f} | {plain[1]:.2f} | "
                f"{held[0]:.2f} | {held[1]:.2f} |"
            )
    return lines


def failures(sets: dict[str, dict[str, np.ndarray]]) -> list[str]:
    """Where today's gold passage is: top 5, 6-10, 11-50 of the fused candidates, not among them, or no passage
    holding a gold quote at all (a chunking or gold-quote problem)."""
    lines = ["| set | top 5 | 6-10 | 11-50 | not in top 50 | no passage holds the quote |", "|---|---|---|---|---|---|"]
    for name, d in sets.items():
        counts = [0, 0, 0, 0, 0]
        for qi in np.flatnonzero(d["answerable"]):
            r = d["base_rank"][qi]
            if 0 < r <= 5:
                counts[0] += 1
            elif r > 5:
                counts[1] += 1
            elif not d["in_corpus"][qi]:
                counts[4] += 1
            elif d["y"][d["q"] == qi].any():
                counts[2] += 1
            else:
                counts[3] += 1
        lines.append(f"| {name} | " + " | ".join(str(c) for c in counts) + " |")
    return lines


def load_sets() -> dict[str, dict[str, np.ndarray]]:
    return {name: dict(np.load(features_path(name))) for name, _, _ in (SEEDS, PARTNERSHIPS)}


def train(out: Path | None = None, **kw: Any) -> Reranker:
    """Fit the shipped reranker on every answerable question of both sets' saved features; write it to `out`."""
    sets = load_sets()
    everything = {name: np.flatnonzero(d["answerable"]) for name, d in sets.items()}
    model = fit_on(sets, everything, c=choose_c(sets, **kw), **kw)
    model.info["trained_on"] = [
        f"{name}: {', '.join(p.name for p in paths)}" for name, paths, _ in (SEEDS, PARTNERSHIPS)
    ]
    (out or MODEL_PATH).write_text(model.to_json() + "\n", encoding="utf-8")
    return model


def main(argv: list[str]) -> None:
    if argv[:1] == ["collect"]:
        collect(Path(argv[1]) if len(argv) > 1 else None)
        return
    sets = load_sets()
    print("\n".join(table(sets)))
    print()
    print("\n".join(failures(sets)))


if __name__ == "__main__":
    main(sys.argv[1:])
