"""`pka eval`: run a question set and write a JSON report and a Markdown table."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer

from core.config import get_settings


def eval_command(
    question_set: Path = typer.Option(Path("evals/dev.jsonl"), "--set", help="Question set (JSONL)."),
    out: Path = typer.Option(None, help="Report folder (default evals/results/<timestamp>)."),
    compare: Path = typer.Option(None, help="A report.json to compare with (e.g. evals/results/baseline/report.json)."),
    distractors: int = typer.Option(0, help="Add at least this many chunks of synthetic other-partnership documents."),
    distractor_mode: str = typer.Option("markov", help="markov (new sentences) or recycle (near-duplicates)."),
) -> None:
    """Measure retrieval, answers, abstention and latency on a question set."""
    from assistant.service import build_service
    from evals.runner import load_set, run_side_by_side, to_markdown

    try:
        items = load_set(question_set)
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = get_settings()
    title = f"Eval of {question_set.name}"
    if distractors:
        from core.embeddings import build_embedder
        from evals.distractors import build_distractor_kb

        embedder = build_embedder(settings)
        settings, ingest_report = build_distractor_kb(
            settings, embedder=embedder, min_chunks=distractors, mode=distractor_mode
        )
        typer.echo(f"distractor knowledge base: {ingest_report.chunks_total} chunks in {ingest_report.files} files")
        title += (
            f" with {ingest_report.chunks_total} chunks ({ingest_report.files} files, {distractor_mode} distractors)"
        )
        service = build_service(settings, embedder=embedder)
    else:
        service = build_service(settings)
    if service.generator is not None:
        typer.echo(f"LLM at {settings.llm_base_url}: running the extractive and generative modes side by side")
    report = run_side_by_side(service, items)  # extractive only unless PKA_LLM_BASE_URL is set
    baseline = json.loads(compare.read_text()) if compare else None
    out = out or Path("evals/results") / datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    md = to_markdown(report, baseline=baseline, title=title)
    (out / "report.md").write_text(md)
    typer.echo(md)
    typer.echo(f"Report written to {out}/")


def eval_safeguarding_command(
    out: Path = typer.Option(Path("evals/results/safeguarding"), help="Report folder."),
) -> None:
    """Measure the urgent-concern detector, the review index and theme coverage."""
    from assistant.service import build_service
    from evals.safeguarding import review_figures, to_markdown, urgent_figures

    service = build_service(get_settings())
    md = to_markdown(urgent_figures(service), review_figures(service))
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(md)
    typer.echo(md)
