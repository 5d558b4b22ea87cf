"""`pka ingest`: bring the store in line with the knowledge folder, with a progress bar and a summary."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from tqdm import tqdm

from core.config import get_settings
from core.embeddings import build_embedder
from core.store import open_store
from ingest.pipeline import IngestReport, ingest_corpus


def ingest(
    path: Path | None = typer.Argument(None, help="File or folder to ingest (default: the knowledge folder)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Delete the store and ingest everything again."),
) -> None:
    """Parse, chunk, embed and store the documents; unchanged files are skipped."""
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
    return "\n".join(lines)
