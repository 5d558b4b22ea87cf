"""Find the source files under the knowledge folder and read the manifest that describes them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core.errors import BadInput
from core.types import DOC_TYPES, DocumentMeta
from ingest.parsers import SUPPORTED_SUFFIXES

MANIFEST = "manifest.yaml"
_IGNORED_NAMES = {"README.md", "readme.md", "README.txt", "LICENSE", "LICENSE.txt"}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    doc_id: str  # posix path relative to the knowledge folder
    size: int


def discover(root: Path) -> tuple[list[SourceFile], list[tuple[str, str]]]:
    """Return the supported files under root and (name, reason) for files passed over."""
    if not root.exists():
        raise BadInput(f"The knowledge folder {root} does not exist.")
    if root.is_file():
        return [SourceFile(root, root.name, root.stat().st_size)], []
    found: list[SourceFile] = []
    skipped: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        if path.is_symlink():
            problem = _link_problem(path, root)
            if problem:
                skipped.append((rel, problem))
                continue
        if not path.is_file():
            continue
        if path.name in _IGNORED_NAMES or path.suffix.lower() in (".yaml", ".yml"):
            continue
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            skipped.append((rel, f"unsupported file type {path.suffix or '(none)'!r}"))
            continue
        found.append(SourceFile(path, rel, path.stat().st_size))
    return found, skipped


def _link_problem(path: Path, root: Path) -> str:
    """Why a symbolic link is not read ("" for a link to a file inside the folder, which is)."""
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return f"is a broken link (to {path.readlink()}, which does not exist)"
    except (RuntimeError, OSError):  # RuntimeError: Python 3.11's "Symlink loop"; OSError: ELOOP
        return "is a link loop (it leads back to itself)"
    inside = target.is_relative_to(root.resolve())
    if target.is_dir():
        if inside:
            return "is a link to a folder inside the knowledge folder: its files are read where they are"
        return "is a link to a folder outside the knowledge folder (not followed)"
    return "" if inside else "is a link to outside the knowledge folder"


def load_manifest(root: Path) -> dict[str, dict[str, Any]]:
    path = (root if root.is_dir() else root.parent) / MANIFEST
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} is not valid YAML: {exc}") from exc
    docs = data.get("documents", {}) if isinstance(data, dict) else {}
    if not isinstance(docs, dict):
        raise BadInput(f"{path}: `documents` must map file names to metadata")
    return {str(k): (v or {}) for k, v in docs.items()}


_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")


def infer_meta(doc_id: str, text: str, title_hint: str, entry: dict[str, Any]) -> DocumentMeta:
    """Metadata from the manifest entry, with a title, type and year inferred where it says nothing."""
    title = str(entry.get("title") or title_hint or _first_line(text) or Path(doc_id).stem).strip()[:200]
    doc_type = str(entry.get("doc_type") or _guess_type(title + "\n" + text[:3000]))
    if doc_type not in DOC_TYPES:
        raise BadInput(f"manifest entry for {doc_id}: doc_type {doc_type!r} is not one of {', '.join(DOC_TYPES)}")
    date = str(entry.get("date") or "")
    years = _YEAR.findall(date) or _YEAR.findall(title) or _YEAR.findall(text[:5000])
    year = int(max(years)) if years else None
    return DocumentMeta(
        title=title,
        doc_type=doc_type,
        partnership=str(entry.get("partnership") or entry.get("publisher") or _guess_partnership(text)),
        date=date,
        year=year,
        source_url=str(entry.get("source_url") or ""),
        supersedes=",".join(_as_list(entry.get("supersedes"))),
    )


def _as_list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if 3 <= len(line) <= 150:
            return line
    return ""


def _guess_type(text: str) -> str:
    low = text.lower()
    if "learning briefing" in low or "key learning" in low and "review" in low[:500]:
        return "learning_briefing"
    if "annual report" in low[:400]:
        return "annual_report"
    if re.search(r"\bminutes\b|\bresolved\b|agenda item", low):
        return "minutes"
    if "procedure" in low[:400] or "protocol" in low[:400]:
        return "procedure"
    return "other"


def _guess_partnership(text: str) -> str:
    for m in re.finditer(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+)?) Safeguarding Children (?:Partnership|Board)", text[:5000]):
        first, *rest = m.group(1).split()
        if first not in _NOT_PLACES:
            return m.group(0)
        if rest and rest[0] not in _NOT_PLACES:  # "The Essex Safeguarding Children Partnership": drop the article
            return m.group(0)[len(first) + 1 :]
    return ""


_NOT_PLACES = ("The", "This", "Our", "A", "Each", "Local", "National", "Pan")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
