"""`pka ask`, `pka serve` and `pka train-urgent`."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import typer

from core.config import Settings, get_settings


def ask(
    question: str = typer.Argument(..., help="The question to ask."),
    as_json: bool = typer.Option(False, "--json", help="Print the full answer as JSON."),
    api: str | None = typer.Option(
        None, "--api", help="Ask the API at this URL (default: PKA_API_URL, or the configured port when it answers)."
    ),
    local: bool = typer.Option(False, "--local", help="Answer in this process, even when an API is running."),
) -> None:
    """Answer a question from the knowledge base, with numbered sources. Asks the running API when there is one
    (fast); otherwise loads the model and the index here."""
    from assistant.remote import api_target, ask_remote

    settings = get_settings()
    started = time.perf_counter()
    answer: dict[str, Any] | None = None
    if local:
        where = "answered here (--local)"
    else:
        target = api_target(settings, api)
        remote = ask_remote(settings, target, question)
        answer = remote.answer
        where = f"answered by the API at {target.url}" if answer is not None else f"answered here: {remote.reason}"
    if answer is None:
        answer = _ask_here(settings, question)
    note = f"Mode: {answer.get('mode', 'extractive')}"
    if answer.get("fallback_reason"):  # a code from assistant.generate.REASONS (importing it here costs 2 s)
        note += f" (the generative answer was not used: {answer['fallback_reason']})"
    note += f"; {where}, in {time.perf_counter() - started:.1f} s."
    if as_json:
        typer.echo(json.dumps(answer, indent=2))
        typer.echo(note, err=True)
        return
    typer.echo(answer["answer"])
    citations = answer.get("citations") or []
    if citations:
        typer.echo("\nSources:")
        for c in citations:
            where_in = " · ".join(p for p in (c.get("section"), f"p. {c['page']}" if c.get("page") else "") if p)
            typer.echo(f"[{c['n']}] {c['title']}{' — ' + where_in if where_in else ''} ({c['document_id']})")
    typer.echo(f"\n{note}")


def _ask_here(settings: Settings, question: str) -> dict[str, Any]:
    """Load the model and the index in this process, without progress bars or library chatter."""
    quiet_model_loading()
    from assistant.service import build_service

    return build_service(settings).ask(question).model_dump()


def quiet_model_loading() -> None:
    """Silence the model libraries' progress bars ("Loading weights") and info logging; errors still show."""
    for name, value in (
        ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
        ("TQDM_DISABLE", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
        ("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(name, value)
    for name in ("transformers", "sentence_transformers", "huggingface_hub", "chromadb"):
        logging.getLogger(name).setLevel(logging.ERROR)


def serve(
    host: str = typer.Option(None, help="Interface to listen on (default PKA_API_HOST)."),
    port: int = typer.Option(None, help="Port (default PKA_API_PORT)."),
    workers: int = typer.Option(1, help="Worker processes."),
) -> None:
    """Run the HTTP API."""
    import uvicorn

    from assistant.api.logredact import log_config
    from assistant.api.protocol import protocol_class

    settings = get_settings()
    uvicorn.run(
        "assistant.serving:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level="info",
        http=protocol_class(),  # malformed requests get a JSON 400 too
        timeout_keep_alive=settings.keep_alive_timeout_s,  # type: ignore[arg-type]  # uvicorn takes a float fine
        limit_concurrency=settings.max_concurrency or None,
        log_config=log_config(),  # query-string values (keys, questions) never reach the access log
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
