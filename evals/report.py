"""The Markdown report of an eval: each question set's headline figures, plain and cross-validated, then the
plain run's per-type table, latency and the items to look at.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from evals.runner import summarise, to_markdown

HEADLINE = [
    ("hit@5", "hit@5"),
    ("mrr@10", "MRR@10"),
    ("keyword_recall", "keyword recall"),
    ("cited_support", "cited support"),
    ("citation_precision", "citation precision"),
    ("answered", "answers answerable"),
    ("abstained_unanswerable", "abstains on unanswerable"),
]


def per_set(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    by_set: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_set[r.get("set") or "all"].append(r)
    out = {name: summarise(rs)["overall"] for name, rs in by_set.items()}
    if len(by_set) > 1:
        out["all"] = summarise(rows)["overall"]
    return out


def headline_table(report: dict[str, Any]) -> list[str]:
    lines = ["| set | run | n | " + " | ".join(h for _k, h in HEADLINE) + " |", "|---" * (len(HEADLINE) + 3) + "|"]
    runs = [("plain", report["rows"])]
    cv = report.get("crossval")
    if cv:
        runs.append((f"{cv['folds']}-fold CV", cv["rows"]))
    tables = [(name, per_set(rows)) for name, rows in runs]
    for set_name in tables[0][1]:
        for run, sets in tables:
            o = sets.get(set_name)
            if o is None:
                continue
            cells = ["" if o.get(k) is None else f"{o[k]:.2f}" for k, _h in HEADLINE]
            lines.append(f"| {set_name} | {run} | {o['n']} | " + " | ".join(cells) + " |")
    if not cv:
        lines += ["", "No cross-validated run: this answer step has no fitted parameters, so CV equals plain."]
    else:
        ts = ", ".join(f"{t:.3f}" for t in cv.get("thresholds", []))
        lines += [
            "",
            f"Cross-validated: each fold's scorer and abstention threshold fitted on the other folds "
            f"(thresholds {ts}).",
        ]
    return lines


def report_markdown(report: dict[str, Any], *, baseline: dict[str, Any] | None = None, title: str = "Eval") -> str:
    detail = to_markdown(report, baseline=baseline, title="Plain run in detail")
    head = [f"# {title}", "", *headline_table(report), "", ""]
    return "\n".join(head) + detail.replace("# Plain run in detail", "## Plain run in detail", 1)
