"""Parsers: one function per file type, each turning raw bytes into (text, page starts).

Every failure raises ParseError with a plain-English reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ParseError


@dataclass
class Parsed:
    """Raw extracted text (before cleaning) split into pages; a non-paged format has one page."""

    pages: list[str]
    title_hint: str = ""
    media_type: str = "text/plain"
    extra: dict[str, str] = field(default_factory=dict)


Parser = Callable[[bytes, int], Parsed]


def _registry() -> dict[str, Parser]:
    from ingest.parsers import docx, html, pdf, text

    return {
        ".txt": text.parse_text,
        ".md": text.parse_markdown,
        ".markdown": text.parse_markdown,
        ".html": html.parse_html,
        ".htm": html.parse_html,
        ".pdf": pdf.parse_pdf,
        ".docx": docx.parse_docx,
    }


SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


def parse_bytes(path: Path, data: bytes, *, max_pages: int) -> Parsed:
    parser = _registry().get(path.suffix.lower())
    if parser is None:
        raise ParseError(f"unsupported file type {path.suffix!r}")
    if not data.strip():
        raise ParseError("the file is empty")
    return parser(data, max_pages)
