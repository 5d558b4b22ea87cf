"""Run a question set through the assistant in-process and summarise per question type and overall."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from assistant.service import AssistantService
from evals.metrics import first_hit_rank, keyword_recall, mean, percentile, quote_in


def load_set(path: Path) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
        for key in ("id", "question", "type"):
            if key not in item:
                raise ValueError(f"{path}:{n}: missing field {key!r}")
        items.append(item)
    return items


def run_item(service: AssistantService, item: dict[str, Any]) -> dict[str, Any]:
    history = item.get("history") or []
    gold = item.get("gold_quotes") or []
    t0 = time.perf_counter()
    hits = service.search(item["question"], top_k=10, history=history)
    t1 = time.perf_counter()
    answer = service.ask(item["question"], history=history)
    t2 = time.perf_counter()
    passages = [h.chunk.text for h in hits]
    rank = first_hit_rank(gold, passages) if gold else None
    cited = [c.text for c in answer.citations]
    return {
        "id": item["id"],
        "set": item.get("_set", ""),
        "type": item["type"],
        "question": item["question"],
        "standalone": answer.standalone_question,
        "answerable": item["type"] != "unanswerable",
        "rank": rank,
        "abstained": answer.abstained,
        "answer": answer.answer,
        "keyword_recall": keyword_recall(item.get("answer_keywords") or [], answer.answer),
        "cited_support": any(quote_in(q, c) for q in gold for c in cited) if gold else None,
        "citation_hits": [any(quote_in(q, c, min_share=0.3) for q in gold) for c in cited] if gold else [],
        "mode": answer.mode,
        "fallback_reason": answer.fallback_reason,
        "search_ms": (t1 - t0) * 1000,
        "ask_ms": (t2 - t1) * 1000,
        "top_chunks": [f"{h.chunk.doc_id}#{h.chunk.ordinal}" for h in hits[:5]],
    }


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    with_gold = [r for r in answerable if r["cited_support"] is not None]

    def hit(k: int, rs: list[dict[str, Any]]) -> float:
        return mean([1.0 if r["rank"] is not None and r["rank"] <= k else 0.0 for r in rs])

    def block(rs: list[dict[str, Any]]) -> dict[str, Any]:
        ans = [r for r in rs if r["answerable"]]
        una = [r for r in rs if not r["answerable"]]
        answered = [r for r in ans if not r["abstained"]]
        cites = [h for r in answered for h in r["citation_hits"]]
        out: dict[str, Any] = {"n": len(rs)}
        if ans:
            out.update(
                {
                    "hit@1": hit(1, ans),
                    "hit@5": hit(5, ans),
                    "hit@10": hit(10, ans),
                    "mrr@10": mean([1.0 / r["rank"] if r["rank"] and r["rank"] <= 10 else 0.0 for r in ans]),
                    "keyword_recall": mean([r["keyword_recall"] for r in ans]),
                    "cited_support": mean([1.0 if r["cited_support"] else 0.0 for r in ans]),
                    "citation_precision": mean([1.0 if h else 0.0 for h in cites]) if cites else 0.0,
                    "answered": mean([0.0 if r["abstained"] else 1.0 for r in ans]),
                }
            )
        if una:
            out["abstained_unanswerable"] = mean([1.0 if r["abstained"] else 0.0 for r in una])
        return out

    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
    overall = block(rows)
    overall.update(
        {
            "search_p50_ms": percentile([r["search_ms"] for r in rows], 50),
            "search_p95_ms": percentile([r["search_ms"] for r in rows], 95),
            "ask_p50_ms": percentile([r["ask_ms"] for r in rows], 50),
            "ask_p95_ms": percentile([r["ask_ms"] for r in rows], 95),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "with_gold": len(with_gold),
        }
    )
    return {"overall": overall, "by_type": {t: block(rs) for t, rs in sorted(by_type.items())}}


def run_eval(service: AssistantService, items: list[dict[str, Any]]) -> dict[str, Any]:
    service.retriever.refresh()
    service.search(items[0]["question"], top_k=1)  # warm the model so latency figures are steady-state
    rows = [run_item(service, item) for item in items]
    return {"summary": summarise(rows), "rows": rows}


def run_side_by_side(service: AssistantService, items: list[dict[str, Any]]) -> dict[str, Any]:
    """With an LLM configured: the extractive run (the report itself, comparable with any baseline), then the
    generative run under report["generative"], with how often the model's answer was used and why not."""
    generator = service.generator
    service.generator = None
    try:
        report = run_eval(service, items)
    finally:
        service.generator = generator
    if generator is None:
        return report
    generative = run_eval(service, items)
    rows = generative["rows"]
    reasons: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["mode"] != "generative":
            reasons[r["fallback_reason"] or "not_asked"] += 1  # answered by the review/theme path
    share = mean([1.0 if r["mode"] == "generative" else 0.0 for r in rows])
    generative["summary"]["overall"]["generative_share"] = share
    generative["summary"]["fallbacks"] = dict(sorted(reasons.items()))
    generative["model"] = {"base_url": service.settings.llm_base_url, "model": service.settings.llm_model}
    report["generative"] = generative
    return report


_COLUMNS = [
    "n",
    "hit@1",
    "hit@5",
    "hit@10",
    "mrr@10",
    "keyword_recall",
    "cited_support",
    "citation_precision",
    "answered",
    "abstained_unanswerable",
]


def _table(s: dict[str, Any]) -> list[str]:
    lines = ["| type | " + " | ".join(_COLUMNS) + " |", "|---" * (len(_COLUMNS) + 1) + "|"]
    for name, block in [("**overall**", s["overall"]), *s["by_type"].items()]:
        cells = []
        for col in _COLUMNS:
            v = block.get(col)
            cells.append("" if v is None else (str(v) if col == "n" else f"{v:.2f}"))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _generative_block(report: dict[str, Any]) -> list[str]:
    g = report.get("generative")
    if not g:
        return []
    s, o, e = g["summary"], g["summary"]["overall"], report["summary"]["overall"]
    model = g.get("model") or {}
    fallbacks = ", ".join(f"{k} {v}" for k, v in s.get("fallbacks", {}).items()) or "none"
    lines = [
        "",
        f"## Generative mode ({model.get('model', '')} at {model.get('base_url', '')})",
        "",
        f"The model's answer was used for {o.get('generative_share', 0):.0%} of questions; the others fell back to "
        f"the extractive answer ({fallbacks}).",
        "",
        *_table(s),
        "",
        f"Latency: /ask p50 {o['ask_p50_ms']:.1f} ms, p95 {o['ask_p95_ms']:.1f} ms (extractive: p50 "
        f"{e['ask_p50_ms']:.1f} ms, p95 {e['ask_p95_ms']:.1f} ms).",
        "",
        "| metric | extractive | generative | change |",
        "|---|---|---|---|",
    ]
    for col in _COLUMNS[1:]:
        if col in o and col in e:
            lines.append(f"| {col} | {e[col]:.2f} | {o[col]:.2f} | {o[col] - e[col]:+.2f} |")
    return lines


def to_markdown(report: dict[str, Any], *, baseline: dict[str, Any] | None = None, title: str = "Eval") -> str:
    s = report["summary"]
    lines = [f"# {title}", "", *(["## Extractive mode", ""] if report.get("generative") else []), *_table(s)]
    o = s["overall"]
    lines += [
        "",
        f"Latency: /search p50 {o['search_p50_ms']:.1f} ms, p95 {o['search_p95_ms']:.1f} ms; "
        f"/ask p50 {o['ask_p50_ms']:.1f} ms, p95 {o['ask_p95_ms']:.1f} ms (in-process).",
    ]
    if baseline is not None:
        b = baseline["summary"]["overall"]
        lines += ["", "## Compared with baseline", "", "| metric | baseline | this run | change |", "|---|---|---|---|"]
        for col in _COLUMNS[1:]:
            if col in o and col in b:
                lines.append(f"| {col} | {b[col]:.2f} | {o[col]:.2f} | {o[col] - b[col]:+.2f} |")
    lines += _generative_block(report)
    misses = [
        r
        for r in report["rows"]
        if (r["answerable"] and (r["rank"] is None or r["rank"] > 5 or r["abstained"] or r["keyword_recall"] < 1))
        or (not r["answerable"] and not r["abstained"])
    ]
    if misses:
        lines += ["", "## Items to look at", ""]
        for r in misses:
            lines.append(
                f"- {r['id']} ({r['type']}): rank {r['rank']}, abstained {r['abstained']}, "
                f"keywords {r['keyword_recall']:.2f} — {r['question']}"
            )
    return "\n".join(lines) + "\n"
