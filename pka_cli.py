"""The `pka` command: one console script whose sub-commands live in each package's cli module."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer
from pydantic import ValidationError

from assistant.cli import ask, serve, train_urgent
from core.config import Settings, get_settings, settings_problems
from core.errors import BadInput, PKAError
from evals.cli import eval_command, eval_safeguarding_command, train_answer_command, train_rerank_command
from ingest.cli import flagged, ingest

app = typer.Typer(help="Partnership Knowledge Assistant.", no_args_is_help=True, add_completion=False)
app.command("ingest")(ingest)
app.command("ask")(ask)
app.command("serve")(serve)
app.command("eval")(eval_command)
app.command("eval-safeguarding")(eval_safeguarding_command)
app.command("flagged")(flagged)
app.command("train-urgent")(train_urgent)
app.command("train-answer")(train_answer_command)
app.command("train-rerank")(train_rerank_command)

feedback_app = typer.Typer(help="Feedback people gave on answers (kept in the data folder).", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("export")
def feedback_export(
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of standard output."),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl (one JSON object a line) or csv."),
) -> None:
    """Export all feedback as JSON lines or CSV."""
    from assistant.feedback import FeedbackStore, to_csv, to_jsonl

    if fmt not in ("jsonl", "csv"):
        raise BadInput(f"--format must be jsonl or csv, not {fmt!r}")
    settings = get_settings()
    rows = FeedbackStore.in_folder(settings.data_dir, retention_days=settings.feedback_retention_days).rows()
    text = to_csv(rows) if fmt == "csv" else to_jsonl(rows)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{len(rows)} rows written to {out}", err=True)


@feedback_app.command("delete")
def feedback_delete(
    older_than: float | None = typer.Option(
        None,
        "--older-than",
        min=0,
        help="Delete feedback older than this many days (default PKA_FEEDBACK_RETENTION_DAYS).",
    ),
    delete_all: bool = typer.Option(False, "--all", help="Delete all feedback."),
) -> None:
    """Delete old feedback (past the retention period, or --older-than DAYS), or all of it with --all."""
    from assistant.feedback import FeedbackStore

    if delete_all and older_than is not None:
        raise BadInput("Give --older-than DAYS or --all, not both.")
    settings = get_settings()
    store = FeedbackStore.in_folder(settings.data_dir, retention_days=settings.feedback_retention_days)
    if not store.path.exists():
        typer.echo("0 feedback rows deleted (there is no feedback yet).")
        return
    if delete_all:
        n = store.delete_all()
    else:
        n = store.delete_older_than(settings.feedback_retention_days if older_than is None else older_than)
    typer.echo(f"{n} feedback rows deleted.")


@app.command("bench")
def bench(
    what: str = typer.Argument(
        ..., help="ingest (throughput vs bare embedding), query (latency and recall) or parsing (real files)."
    ),
    chunks: int = typer.Option(10_000, "--chunks", min=10, help="Corpus size in chunks."),
    hashing: bool = typer.Option(False, "--hashing", help="Use the hashing embedder (quick, not realistic)."),
    rounds: int = typer.Option(5, "--rounds", min=1, help="query: passes over the question list."),
    out: Path | None = typer.Option(None, "--out", help="Also append the Markdown table to this file."),
    workdir: Path | None = typer.Option(None, "--workdir", help="query: keep the filled store in this folder."),
    reuse: bool = typer.Option(False, "--reuse", help="query: reuse a store --workdir holds at this size."),
    folder: Path | None = typer.Option(None, "--folder", help="parsing: files to parse (../shared/external-formats)."),
) -> None:
    """Benchmark ingest or query at a given size on a synthetic corpus (see bench/perf.py)."""
    if what not in ("ingest", "query", "parsing"):
        raise BadInput(f"bench what: ingest, query or parsing, not {what!r}")
    root = str(Path(__file__).resolve().parent)
    from bench.perf import bench_ingest, bench_query

    if what == "parsing":
        from bench.parsing import bench_parsing, external_formats

        folder = folder or external_formats(Path(root))
        if folder is None or not folder.is_dir():
            raise BadInput(f"bench parsing: no folder {folder} (give --folder)")
        md = bench_parsing(folder).markdown()
    elif what == "ingest":
        md = bench_ingest(chunks, hashing=hashing).markdown()
    else:
        md = bench_query(chunks, hashing=hashing, rounds=rounds, workdir=workdir, reuse=reuse).markdown()
    typer.echo(md)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("a", encoding="utf-8") as fh:
            fh.write(md + "\n")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except PKAError as exc:
        typer.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:  # the PKA_ settings: said plainly, without a traceback
        if exc.title != Settings.__name__:
            raise
        typer.echo(f"Error: {settings_problems(exc)}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
