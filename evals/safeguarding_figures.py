"""Figures for the safeguarding-aware features: urgent-concern recall and false alarms, the review index, theme
coverage (reviews listed / reviews tagged), named-review answers and ambiguity handling.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.service import AssistantService
from assistant.urgency import WEIGHTS_PATH, model_key


def urgent_figures(service: AssistantService, weights: Path = WEIGHTS_PATH) -> dict[str, dict[str, float]]:
    """The detector's cross-validated figures per labelled set, as `pka train-urgent` measured them, for the model
    the service uses. Every labelled message trains the detector, so scoring the sets here would be no test."""
    models = json.loads(weights.read_text(encoding="utf-8"))["models"]
    key = model_key(service.retriever.embedder)
    cv = models.get(key, models["structural"])["cross_validation"]
    out = {
        name: {
            "urgent": f["urgent"],
            "lookalikes": f["not_urgent"],
            "recall": f["recall"] or 0.0,
            "false_alarm_rate": f["false_alarm_rate"] or 0.0,
        }
        for name, f in cv["by_source"].items()
    }
    total_u = sum(f["urgent"] for f in out.values())
    total_c = sum(f["lookalikes"] for f in out.values())
    out["all (pooled)"] = {
        "urgent": total_u,
        "lookalikes": total_c,
        "recall": cv["recall"],
        "false_alarm_rate": cv["false_alarm_rate"],
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
        "Cross-validated (`pka train-urgent`, 10 folds): each message scored by a model fitted without it.",
        "",
        "## Review index and themes",
        "",
    ]
    for key, value in reviews.items():
        lines.append(f"- {key}: {value if not isinstance(value, float) else f'{value:.2f}'}")
    return "\n".join(lines) + "\n"
