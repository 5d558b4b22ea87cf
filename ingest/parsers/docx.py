"""DOCX with python-docx: headings keep their level, tables become `a | b` rows (merged cells once, empty cells kept).

Zip bombs are refused.
"""

from __future__ import annotations

import io
import zipfile

from core.errors import ParseError
from ingest.parsers import Parsed

MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 200
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ParseError(f"is not a valid DOCX (bad zip): {exc}") from exc
    if total > MAX_UNZIPPED or total > MAX_RATIO * max(len(data), 1) and total > 10 * 1024 * 1024:
        raise ParseError(f"unpacks to {total // (1024 * 1024)} MB: refused as a possible zip bomb")


def _cell_text(cell) -> str:
    return " ".join(p.strip() for p in cell.text.split("\n") if p.strip())


def table_lines(table) -> list[str]:
    """Rows as `cell | cell`: a merged cell once (python-docx repeats it in every grid column it spans), an empty
    cell kept as an empty slot, and a row that is one cell across the table (a caption or a box) as plain lines."""
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell))
        if not any(cells):
            continue
        if len(cells) == 1:
            lines.extend(p.strip() for p in row.cells[0].text.split("\n") if p.strip())
        else:
            lines.append(" | ".join(cells).rstrip())
    return lines


def parse_docx(data: bytes, max_pages: int) -> Parsed:
    _check_zip(data)
    from docx import Document as load_docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = load_docx(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors...
        raise ParseError(f"is a damaged DOCX: {exc}") from exc
    lines: list[str] = []
    title = (doc.core_properties.title or "").strip()
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            if style.startswith("Heading") and style[-1:].isdigit():
                text = "#" * int(style[-1]) + " " + text
            elif style == "Title":
                title = title or text
                text = "# " + text
            elif style.startswith("List"):
                text = "· " + text
            lines.extend([text, ""])
        elif isinstance(block, Table):
            lines.extend(table_lines(block))
            lines.append("")
    return Parsed(pages=["\n".join(lines)], title_hint=title, media_type=DOCX_TYPE)
