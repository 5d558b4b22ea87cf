"""`pka ingest`: bring the store in line with the knowledge folder, with a progress bar and a summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from core.config import get_settings

if TYPE_CHECKING:  # the heavy modules load when the command runs, so that other `pka` commands start fast
    from ingest.pipeline import IngestReport


def ingest(
    path: Path | None = typer.Argument(None, help="File or folder to ingest (default: the knowledge folder)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Delete the store and ingest everything again."),
) -> None:
    """Parse, chunk, embed and store the documents; unchanged files are skipped."""
    from tqdm import tqdm

    from core.embeddings import build_embedder
    from core.store import open_store
    from ingest.pipeline import ingest_corpus

    settings = get_settings()
    if rebuild and not settings.chroma_host and settings.chroma_path.exists():
        shutil.rmtree(settings.chroma_path)
    embedder = build_embedder(settings)
    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    with tqdm(desc="ingest", unit="file", leave=False) as bar:

        def tick(name: str) -> None:
            bar.set_postfix_str(name[-40:])
            bar.update(1)

        report = ingest_corpus(settings, embedder=embedder, store=store, path=path, progress=tick)
    typer.echo(format_report(report))
    if not report.ok:
        raise typer.Exit(1)


def flagged(as_json: bool = typer.Option(False, "--json", help="Print them as JSON lines.")) -> None:
    """List the passages ingest flagged as planted instructions (kept out of answers and search)."""
    from core.embeddings import build_embedder
    from core.records import flagged_row
    from core.store import open_store

    settings = get_settings()
    embedder = build_embedder(settings)
    chunks = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim).flagged_chunks()
    if as_json:
        for c in chunks:
            typer.echo(json.dumps(flagged_row(c), ensure_ascii=False))
        return
    if not chunks:
        typer.echo("No passage is flagged.")
        return
    for c in chunks:
        where = " · ".join(p for p in (c.section, f"p. {c.page}" if c.page else "", f"chars {c.start}-{c.end}") if p)
        typer.echo(f"{c.doc_id} ({where}): {c.flag}")
    typer.echo(f"{len(chunks)} passage(s) in {len({c.doc_id for c in chunks})} file(s); fix or remove those files.")


def format_report(report: IngestReport) -> str:
    lines = [
        f"{report.files} files: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed, {len(report.failed)} failed, "
        f"{len(report.skipped)} skipped.",
        f"{report.chunks_written} chunks written; {report.chunks_total} chunks in the knowledge base.",
    ]
    if report.chunks_written:
        s = report.seconds
        total = s.get("total", 0.0)
        rate = f" ({report.chunks_written / total:.0f} chunks/s)" if total else ""
        lines.append(
            f"time: {total:.2f}s{rate}; parse {s['parse']:.2f}s and chunk {s['chunk']:.2f}s (in threads, alongside), "
            f"embed {s['embed']:.2f}s, store {s['store']:.2f}s"
        )
    if report.stopped is not None:
        lines.append(f"STOPPED: {report.stopped}")
    for name, reason in report.failed:
        lines.append(f"FAILED  {name}: {reason}")
    for name, reason in report.skipped:
        lines.append(f"skipped {name}: {reason}")
    for name, reasons in report.flagged.items():
        lines.append(f"FLAGGED {name}: {len(reasons)} passage(s) kept out of answers; the first {reasons[0]}")
    for name, n in report.flagged_before.items():
        lines.append(f"FLAGGED {name}: {n} passage(s) kept out of answers (unchanged since an earlier ingest)")
    if report.flagged or report.flagged_before:
        lines.append("Review them with `pka flagged` (or GET /admin/flagged) and fix or remove those files.")
    return "\n".join(lines)
