"""`pka ask`, `pka serve` and `pka train-urgent`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from core.config import get_settings


def ask(
    question: str = typer.Argument(..., help="The question to ask."),
    as_json: bool = typer.Option(False, "--json", help="Print the full answer as JSON."),
) -> None:
    """Answer a question from the knowledge base, with numbered sources."""
    from assistant.service import build_service

    service = build_service(get_settings())
    answer = service.ask(question)
    if as_json:
        typer.echo(json.dumps(answer.model_dump(), indent=2))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
        for c in answer.citations:
            where = " · ".join(p for p in (c.section, f"p. {c.page}" if c.page else "") if p)
            typer.echo(f"[{c.n}] {c.title}{' — ' + where if where else ''} ({c.document_id})")


def serve(
    host: str = typer.Option(None, help="Interface to listen on (default PKA_API_HOST)."),
    port: int = typer.Option(None, help="Port (default PKA_API_PORT)."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run the HTTP API."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "assistant.api.app:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level="info",
    )


def train_urgent(
    folder: Path = typer.Option(Path("evals"), help="Folder of labelled messages (urgent*.jsonl)."),
    out: Path | None = typer.Option(None, help="Where to write the weights (default: the package's own)."),
    folds: int = typer.Option(10, min=2, max=50, help="Cross-validation folds."),
    seed: int = typer.Option(0, help="Seed for the fold split."),
) -> None:
    """Retrain the urgent-concern detector on every labelled message; print its cross-validated figures."""
    from assistant.urgency import WEIGHTS_PATH
    from assistant.urgency_train import train
    from core.embeddings import build_embedder

    target = out or WEIGHTS_PATH
    report = train(build_embedder(get_settings()), folder=folder, out=target, folds=folds, seed=seed)
    info = report["trained_on"]
    typer.echo(f"{info['messages']} labelled messages ({info['urgent']} urgent) from {', '.join(info['files'])}")
    for key, model in report["models"].items():
        cv, chosen = model["cross_validation"], model["chosen"]
        typer.echo(
            f"\n{key}: {cv['folds']}-fold cross-validated recall {cv['recall']:.3f}, "
            f"false-alarm rate {cv['false_alarm_rate']:.3f} (final model: C {chosen['C']}, "
            f"miss weight {chosen['miss_weight']}, threshold {model['threshold']:.3f})"
        )
        for name, f in cv["by_source"].items():
            typer.echo(f"  {name}: recall {f['recall']}, false alarms {f['false_alarm_rate']}")
        typer.echo(f"  misses ({len(cv['misses'])}):")
        for text in cv["misses"]:
            typer.echo(f"  - {text}")
        typer.echo(f"  false alarms ({len(cv['false_alarms'])}):")
        for text in cv["false_alarms"]:
            typer.echo(f"  - {text}")
    typer.echo(f"\nWeights written to {target}")
