"""Figures for the safeguarding-aware features: urgent-concern recall and false alarms, the review index, theme
coverage (reviews listed / reviews tagged), named-review answers and ambiguity handling.

Imports: stdlib, core, assistant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.safeguarding import is_urgent
from assistant.service import AssistantService

URGENT_SETS = ("urgent.jsonl", "urgent_heldout.jsonl", "urgent_test.jsonl")


def urgent_figures(folder: Path) -> dict[str, dict[str, float]]:
    out = {}
    for name in URGENT_SETS:
        path = folder / name
        if not path.exists():
            continue
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        urgent = [r["text"] for r in rows if r["urgent"]]
        calm = [r["text"] for r in rows if not r["urgent"]]
        out[name] = {
            "urgent": len(urgent),
            "lookalikes": len(calm),
            "recall": sum(map(is_urgent, urgent)) / max(1, len(urgent)),
            "false_alarm_rate": sum(map(is_urgent, calm)) / max(1, len(calm)),
        }
    return out


def review_figures(service: AssistantService) -> dict[str, Any]:
    reviews = service.safeguarding.reviews()
    tagged = [r for r in reviews if r.themes]
    overview = service.ask("What keeps coming up in our reviews?")
    listed = {c.chunk_id for c in overview.citations}
    named_ok = 0
    for r in [r for r in reviews if r.learning]:
        answer = service.ask(f"What did the {r.name} review teach?")
        named_ok += all(p.text in answer.answer for p in r.learning)
    with_learning = sum(1 for r in reviews if r.learning)
    return {
        "reviews_found": len(reviews),
        "reviews_with_learning": with_learning,
        "by_type": {t: sum(1 for r in reviews if r.review_type == t) for t in sorted({r.review_type for r in reviews})},
        "theme_coverage": len({r.chunk_id for r in tagged} & listed) / max(1, len(tagged)),
        "named_review_answers_complete": named_ok / max(1, with_learning),
    }


def to_markdown(urgent: dict[str, dict[str, float]], reviews: dict[str, Any]) -> str:
    lines = [
        "# Safeguarding features",
        "",
        "## Urgent-concern detection",
        "",
        "| set | urgent | look-alikes | recall | false alarm rate |",
        "|---|---|---|---|---|",
    ]
    for name, f in urgent.items():
        lines.append(
            f"| {name} | {f['urgent']} | {f['lookalikes']} | {f['recall']:.2f} | {f['false_alarm_rate']:.2f} |"
        )
    lines += [
        "",
        "`urgent_test.jsonl` was written before the final rules and not used to tune them.",
        "",
        "## Review index and themes",
        "",
    ]
    for key, value in reviews.items():
        lines.append(f"- {key}: {value if not isinstance(value, float) else f'{value:.2f}'}")
    return "\n".join(lines) + "\n"
