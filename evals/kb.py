"""The knowledge folder and store an eval runs against: the seeds' folder, optionally merged with other folders
(e.g. ../shared/corpora/partnerships) into one temporary folder, ingested once and cached by content.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import yaml

from core.config import Settings
from core.embeddings import Embedder
from core.errors import BadInput
from core.store import open_store
from ingest.discover import MANIFEST
from ingest.pipeline import IngestReport, ingest_corpus

CACHE_ROOT = Path("/tmp/pka-eval")


def _digest(folders: list[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            h.update(path.relative_to(folder).as_posix().encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def _manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise BadInput(f"{path}: not a mapping")
    return data


def merge_folders(knowledge: Path, added: list[Path], dest: Path) -> Path:
    """Copy `knowledge` to dest/knowledge and each added folder into a sub-folder named after it; one manifest
    with every document's entry (keyed by its path in the merged folder) and the first folder's other settings."""
    for folder in (knowledge, *added):
        if not folder.is_dir():
            raise BadInput(f"knowledge folder {folder} does not exist")
    out = dest / "knowledge"
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(knowledge, out)
    merged = _manifest(knowledge)
    docs = dict(merged.get("documents") or {})
    for folder in added:
        sub = out / folder.name
        shutil.copytree(folder, sub, ignore=shutil.ignore_patterns(MANIFEST))
        for name, entry in (_manifest(folder).get("documents") or {}).items():
            docs[f"{folder.name}/{name}"] = entry
    merged["documents"] = docs
    (out / MANIFEST).write_text(yaml.safe_dump(merged, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def prepare_kb(
    settings: Settings, *, embedder: Embedder, knowledge: Path, added: list[Path]
) -> tuple[Settings, IngestReport]:
    """Settings pointing at an ingested store of `knowledge` + `added`, cached under /tmp/pka-eval/<hash> (the
    hash of every file, the embedder and the chunking settings), so a rerun ingests nothing."""
    key = _digest([knowledge, *added], f"{embedder.model_id}|{settings.chunk_max_chars}|{settings.chunk_min_chars}")
    root = CACHE_ROOT / key
    folder = merge_folders(knowledge, added, root) if added else knowledge
    kb = settings.model_copy(update={"knowledge_dir": folder, "data_dir": root / "data"})
    (root / "data").mkdir(parents=True, exist_ok=True)
    store = open_store(kb, embedder_id=embedder.model_id, dim=embedder.dim)
    report = ingest_corpus(kb, embedder=embedder, store=store)
    return kb, report
