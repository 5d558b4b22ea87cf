"""Clean conversion debris out of extracted text so that quotes, offsets and answers read as the source does.

The output of clean_text() is the canonical text that every chunk offset points into.
"""

from __future__ import annotations

import html
import re

from ingest.reflow import drop_page_numbers, reflow_lines

_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_IMAGE = re.compile(r"\[image:[^\]]{0,500}\]", re.DOTALL)
_BREAK_TAGS = re.compile(r"</?(?:p|br|div|li|tr)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_SPACES = re.compile(r"[ \u00a0\u2000-\u200b\u202f\u3000]+")
_SECTION_NO = re.compile(r"^\d{1,2}(?:\.\d{1,2}){1,3}\.?$|^\d{1,2}\.$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _clean_row(line: str) -> str:
    """A tab-separated row becomes `cell | cell`; a `Label:<tab>value` pair becomes `Label: value`."""
    cells = [c.strip() for c in line.split("\t")]
    cells = [c for c in cells if c]
    if len(cells) <= 1:
        return cells[0] if cells else ""
    if len(cells) == 2 and (cells[0].endswith(":") and len(cells[0]) < 40 or _SECTION_NO.match(cells[0])):
        return f"{cells[0]} {cells[1]}"  # "Date:<tab>3 June" and "4.1<tab>Overview" are not tables
    return " | ".join(cells)


def clean_text(raw: str) -> str:
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _CONTROL.sub("", text)
    text = _BOOKMARK.sub("", text)
    text = _IMAGE.sub("", text)
    # Tags: paragraph-like tags inside a table cell become spaces so a row stays one line.
    text = _BREAK_TAGS.sub(" ", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _BOLD.sub(r"\1", text)
    lines: list[str] = []
    for line in text.split("\n"):
        line = _clean_row(line) if "\t" in line else line
        line = _SPACES.sub(" ", line).strip()
        lines.append(line)
    lines, _ = drop_page_numbers(lines)
    lines = reflow_lines(lines)
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue  # collapse runs of blank lines
        out.append(line)
    return "\n".join(out).strip() + "\n" if any(out) else ""
