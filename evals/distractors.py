"""Build a knowledge base of the real documents plus at least N chunks of synthetic other-partnership documents,
to check that quality holds when the corpus is much larger than the question set's sources.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.config import Settings
from core.embeddings import Embedder
from core.store import open_store
from evals.synthetic import generate
from ingest.chunker import chunk_document
from ingest.discover import SourceFile
from ingest.pipeline import IngestReport, build_document, ingest_corpus


def build_distractor_kb(
    settings: Settings, *, embedder: Embedder, min_chunks: int, seed: int = 7, mode: str = "markov"
) -> tuple[Settings, IngestReport]:
    """Copy the knowledge folder beside generated documents under data/eval-distractors-N and ingest it there
    (idempotent: a second run re-embeds nothing). Returns the settings that point at it and the ingest report."""
    root = Path(settings.data_dir) / f"eval-distractors-{mode}-{min_chunks}-{seed}"
    knowledge = root / "knowledge"
    if knowledge.exists():
        shutil.rmtree(knowledge)
    shutil.copytree(settings.knowledge_dir, knowledge)
    sources = [
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(Path(settings.knowledge_dir).glob("*.txt"))
    ]
    total = 0
    for doc in generate(sources, n_docs=10_000, seed=seed, mode=mode):
        path = knowledge / "distractors" / doc.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.text, encoding="utf-8")
        parsed = build_document(
            SourceFile(path, f"distractors/{doc.name}", path.stat().st_size), path.read_bytes(), {}, settings
        )
        total += len(chunk_document(parsed, max_chars=settings.chunk_max_chars, min_chars=settings.chunk_min_chars))
        if total >= min_chunks:
            break
    kb = settings.model_copy(update={"knowledge_dir": knowledge, "data_dir": root / "data"})
    store = open_store(kb, embedder_id=embedder.model_id, dim=embedder.dim)
    report = ingest_corpus(kb, embedder=embedder, store=store)
    return kb, report
