"""The `pka` command: one console script whose sub-commands live in each package's cli module."""

from __future__ import annotations

import logging
import sys

import typer

from assistant.cli import ask, serve
from core.errors import PKAError
from evals.cli import eval_command
from ingest.cli import ingest

app = typer.Typer(help="Partnership Knowledge Assistant.", no_args_is_help=True, add_completion=False)
app.command("ingest")(ingest)
app.command("ask")(ask)
app.command("serve")(serve)
app.command("eval")(eval_command)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except PKAError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
