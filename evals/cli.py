"""`pka eval`: run question sets against a knowledge folder and write a JSON report and a Markdown table, plain
and k-fold cross-validated; `pka train-answer`: refit the answer scorer.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import typer

from core.config import get_settings


def _load_sets(sets: list[Path]) -> list[dict]:
    from evals.runner import load_set

    items = []
    for path in sets:
        try:
            loaded = load_set(path)
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(str(exc)) from exc
        for item in loaded:
            item["_set"] = path.stem
        items += loaded
    if not items:
        raise typer.BadParameter("the question sets hold no questions")
    return items


def _vector_cache(model_id: str, *, save: bool = False) -> None:
    """Keep the answer engine's sentence vectors between eval runs (/tmp/pka-eval/vectors-<model>.pkl)."""
    import pickle

    from assistant.answer import engine
    from evals.kb import CACHE_ROOT

    path = CACHE_ROOT / f"vectors-{model_id.replace('/', '_')}.pkl"
    if save:
        path.parent.mkdir(parents=True, exist_ok=True)
        merged = pickle.loads(path.read_bytes()) if path.exists() else {}  # another run's vectors are kept
        merged.update(engine._CACHE.vectors)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pickle.dumps(merged))
        tmp.replace(path)
    elif path.exists():
        engine._CACHE.vectors.update(pickle.loads(path.read_bytes()))


def _service(knowledge: Path | None, add: list[Path], distractors: int, distractor_mode: str):
    """The service over the chosen knowledge folder (merged with --add folders and cached), and a title part."""
    from assistant.service import build_service
    from core.embeddings import build_embedder
    from evals.kb import prepare_kb

    settings = get_settings()
    embedder = build_embedder(settings)
    where = str(knowledge or settings.knowledge_dir)
    if knowledge is not None or add:
        settings, report = prepare_kb(
            settings, embedder=embedder, knowledge=knowledge or Path(settings.knowledge_dir), added=list(add)
        )
        where += "".join(f" + {a}" for a in add)
        typer.echo(f"knowledge base {settings.knowledge_dir}: {report.chunks_total} chunks in {report.files} files")
    if distractors:
        from evals.distractors import build_distractor_kb

        settings, report = build_distractor_kb(
            settings, embedder=embedder, min_chunks=distractors, mode=distractor_mode
        )
        typer.echo(f"distractor knowledge base: {report.chunks_total} chunks in {report.files} files")
        where += f" with {report.chunks_total} chunks ({distractor_mode} distractors)"
    _vector_cache(embedder.model_id)
    return build_service(settings, embedder=embedder), where


def eval_command(
    question_sets: list[Path] = typer.Option([Path("evals/dev.jsonl")], "--set", help="Question set (JSONL); repeat."),
    knowledge: Path = typer.Option(None, "--knowledge", help="Knowledge folder (default PKA_KNOWLEDGE_DIR)."),
    add: list[Path] = typer.Option([], "--add", help="Another folder to merge into the knowledge folder; repeat."),
    folds: int = typer.Option(5, "--folds", min=0, help="Cross-validation folds for fitted parameters (0: none)."),
    train_with: list[Path] = typer.Option([], "--train-with", help="Extra training features (.npz) for each fold."),
    save_features: Path = typer.Option(None, "--save-features", help="Write this run's training features (.npz)."),
    out: Path = typer.Option(None, help="Report folder (default evals/results/<timestamp>)."),
    compare: Path = typer.Option(None, help="A report.json to compare with (e.g. evals/results/baseline/report.json)."),
    distractors: int = typer.Option(0, help="Add at least this many chunks of synthetic other-partnership documents."),
    distractor_mode: str = typer.Option("markov", help="markov (new sentences) or recycle (near-duplicates)."),
) -> None:
    """Measure retrieval, answers, abstention and latency on question sets, plain and cross-validated."""
    from assistant.answer.model import Dataset
    from evals.crossval import collect, fitted, run_crossval
    from evals.report import report_markdown
    from evals.runner import run_side_by_side

    items = _load_sets(question_sets)
    service, where = _service(knowledge, add, distractors, distractor_mode)
    if service.generator is not None:
        typer.echo(f"LLM at {service.settings.llm_base_url}: running the extractive and generative modes side by side")
    report = run_side_by_side(service, items)  # extractive only unless PKA_LLM_BASE_URL is set
    report["knowledge"] = where
    if fitted(service) and (folds >= 2 or save_features):
        data = collect(service, items)
        if save_features:
            data.save(save_features)
        if folds >= 2:
            extra = [Dataset.load(p) for p in train_with]
            try:
                report["crossval"] = run_crossval(service, items, k=folds, data=data, extra=extra)
            except ValueError as exc:  # too few questions for every training fold to hold both classes
                typer.echo(f"Cross-validation skipped: {exc} (a set this small cannot be split {folds} ways).")
    _vector_cache(service.embedder.model_id, save=True)
    baseline = json.loads(compare.read_text()) if compare else None
    out = out or Path("evals/results") / datetime.now().strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    title = f"Eval of {', '.join(p.name for p in question_sets)} over {where}"
    md = report_markdown(report, baseline=baseline, title=title)
    (out / "report.md").write_text(md)
    typer.echo(md)
    typer.echo(f"Report written to {out}/")


def train_answer_command(
    question_sets: list[Path] = typer.Option(
        [Path("evals/dev.jsonl"), Path("evals/train.jsonl")], "--set", help="Question set (JSONL); repeat."
    ),
    knowledge: Path = typer.Option(None, "--knowledge", help="Knowledge folder (default PKA_KNOWLEDGE_DIR)."),
    add: list[Path] = typer.Option([], "--add", help="Another folder to merge into the knowledge folder; repeat."),
    train_with: list[Path] = typer.Option([], "--with", help="Training features of other runs (.npz); repeat."),
    out: Path = typer.Option(None, "--out", help="Model file (default: the package's answer_model.json)."),
    save_features: Path = typer.Option(None, "--save-features", help="Also write the sets' features (.npz)."),
    only_with: bool = typer.Option(False, "--only-with", help="Fit on the --with features alone (no question sets)."),
) -> None:
    """Refit the answer scorer (weights and abstention threshold) on question sets and saved features."""
    from assistant.answer.model import MODEL_PATH, Dataset, fit
    from evals.crossval import collect

    parts = [Dataset.load(p) for p in train_with]
    where = "saved features"
    if question_sets and not only_with:
        items = _load_sets(question_sets)
        service, where = _service(knowledge, add, 0, "markov")
        service.retriever.refresh()
        own = collect(service, items)
        _vector_cache(service.embedder.model_id, save=True)
        if save_features:
            own.save(save_features)
        parts.insert(0, own)
    else:
        question_sets = []
    data = Dataset.concat(parts)
    settings = get_settings()
    model = fit(data, embedder="" if settings.embedding_backend == "hashing" else settings.embedding_model)
    model.info["trained_on"] = [p.name for p in question_sets] + [p.name for p in train_with]
    target = out or MODEL_PATH
    target.write_text(model.to_json() + "\n", encoding="utf-8")
    typer.echo(f"{len(data.y)} units of {len(data.answerable)} questions over {where}; threshold {model.threshold:.3f}")
    typer.echo(f"model written to {target}")


def train_rerank_command(
    saved: bool = typer.Option(False, "--saved", help="Fit on the candidates saved by the last run (no scoring)."),
    out: Path = typer.Option(None, "--out", help="Model file (default: the package's rerank_model.json)."),
    partnerships: Path = typer.Option(
        Path("../shared/corpora/partnerships"), "--partnerships", help="The corpus partnerships.jsonl asks about."
    ),
) -> None:
    """Refit the retrieval reranker on seeds dev+train and partnerships.jsonl (over the seeds and
    ../shared/corpora/partnerships): score every question's top candidates, fit, print the 5-fold CV table."""
    from evals.retrieval_cv import collect, load_sets, table, train

    if not saved:
        collect(partnerships)
    model = train(out)
    typer.echo("\n".join(table(load_sets())))
    typer.echo(f"weights: {dict(zip(model.features, model.weights.round(3).tolist(), strict=True))}")
    typer.echo(f"model written to {out or 'assistant/retrieval/rerank_model.json'}")


def eval_safeguarding_command(
    out: Path = typer.Option(Path("evals/results/safeguarding"), help="Report folder."),
) -> None:
    """Measure the urgent-concern detector, the review index and theme coverage."""
    from assistant.service import build_service
    from evals.safeguarding_figures import review_figures, to_markdown, urgent_figures

    service = build_service(get_settings())
    md = to_markdown(urgent_figures(service), review_figures(service))
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(md)
    typer.echo(md)
