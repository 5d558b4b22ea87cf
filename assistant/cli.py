"""`pka ask` and `pka serve`."""

from __future__ import annotations

import json

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
        "assistant.serving:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        log_level="info",
    )
