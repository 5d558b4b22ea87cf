"""Text of a PDF page from its layout: text boxes become paragraphs, lines inside a box are re-flowed into sentences,
raised small digits become footnote markers (`data[^1]`), running headers, footers and page numbers are dropped,
and ruled tables become `cell | cell` rows.

pdfminer/pdfplumber objects are passed in. Pure functions over the layout, so they can be tested
on small generated PDFs. Every threshold here is relative to the page or the line's own font size.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# A line that starts a new item rather than continuing the sentence above it.
_ITEM_START = re.compile(r"^(?:[•·▪●◦■□‣⁃➢✓\-–—*]\s|\(?\d{1,2}[.)]\s|\(?[a-z][.)]\s|\(?[ivx]{1,4}[.)]\s)")
_LONE_BULLET = re.compile(r"^\s*[•·▪●◦■□‣⁃➢✓]\s*$")
_LONE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_MARKER = re.compile(r"^(?:\d{1,3}|[*†‡§¶]{1,3})$")
_CID = re.compile(r"\(cid:\d+\)")  # a glyph the font does not map to text
_LABEL = re.compile(r"^(?:\d{1,2}|[A-Z])$")
_SENTENCE_END = re.compile(r"[.!?:;)\]”’\"']$")

MARGIN = 0.1  # share of the page height at top and bottom where running headers and footers live
SUPERSCRIPT_SIZE = 0.8  # a char this much smaller than its line's body size...
SUPERSCRIPT_RISE = 0.15  # ...and raised by this share of the body size is a superscript


@dataclass
class Line:
    """One layout line: its text (with footnote markers) and its box on the page (top-down coordinates)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass
class Block:
    """One text box of a page: its lines and where it sits."""

    lines: list[Line]

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)

    @property
    def top(self) -> float:
        return min(ln.top for ln in self.lines)

    @property
    def bottom(self) -> float:
        return max(ln.bottom for ln in self.lines)

    @property
    def size(self) -> float:
        return Counter(ln.size for ln in self.lines).most_common(1)[0][0]


def _line_text(line) -> tuple[str, float]:
    """A layout line's text with raised small digits written `[^n]`, and its body font size."""
    from pdfminer.layout import LTChar

    chars = [c for c in line if isinstance(c, LTChar)]
    if not chars:
        return line.get_text().strip(), 0.0
    sizes = Counter(round(c.size, 1) for c in chars)
    body = sizes.most_common(1)[0][0]
    base = Counter(round(c.y0, 0) for c in chars if round(c.size, 1) == body).most_common(1)[0][0]
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if not run:
            return
        mark = "".join(run).strip()
        before = "".join(out)
        # right after a word: a footnote marker; at the start of a line (a footnote's own number): plain text
        if _MARKER.match(mark) and before.strip() and not before[-1:].isspace():
            out.append(f"[^{mark}]")
        else:
            out.append("".join(run))
        run.clear()

    for item in line:
        text = item.get_text()
        is_sup = (
            isinstance(item, LTChar)
            and item.size < SUPERSCRIPT_SIZE * body
            and item.y0 > base + SUPERSCRIPT_RISE * body
            and text.strip() != ""
        )
        if is_sup:
            run.append(text)
            continue
        flush()
        out.append(text)
    flush()
    return _CID.sub("", "".join(out)).strip(), float(body)


def _text_boxes(container):
    """Text boxes of the page, including those inside figures (form XObjects, laid out with all_texts)."""
    from pdfminer.layout import LTFigure, LTTextBox

    for item in container:
        if isinstance(item, LTTextBox):
            yield item
        elif isinstance(item, LTFigure):
            yield from _text_boxes(item)


def page_blocks(layout, page_height: float) -> list[Block]:
    blocks: list[Block] = []
    for box in _text_boxes(layout):
        lines: list[Line] = []
        for line in box:
            text, size = _line_text(line)
            if text:
                lines.append(Line(text, line.x0, line.x1, page_height - line.y1, page_height - line.y0, size))
        if lines:
            blocks.append(Block(_same_baseline(lines)))
    return blocks


def _same_baseline(lines: list[Line]) -> list[Line]:
    """Lines the layout split at a wide gap on one baseline (a bullet and its text) become one line again."""
    out: list[Line] = []
    for ln in lines:
        prev = out[-1] if out else None
        if prev is not None and abs(prev.bottom - ln.bottom) < 0.3 * max(prev.size, ln.size, 1.0):
            a, b = (prev, ln) if prev.x0 <= ln.x0 else (ln, prev)
            out[-1] = Line(f"{a.text} {b.text}", a.x0, max(a.x1, b.x1), min(a.top, b.top), a.bottom, a.size)
        else:
            out.append(ln)
    return out


def _norm(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text)).strip().lower()


def _in_margin(block: Block, height: float) -> bool:
    return block.bottom < MARGIN * height or block.top > (1 - MARGIN) * height


def drop_running(pages: list[list[Block]], heights: list[float]) -> tuple[list[list[Block]], int]:
    """Drop page numbers and headers/footers that repeat on several pages, in the top or bottom margin."""
    seen: Counter[str] = Counter()
    for blocks, h in zip(pages, heights, strict=True):
        for key in {_norm(b.text) for b in blocks if _in_margin(b, h)}:
            seen[key] += 1
    repeat = max(2, (len(pages) + 1) // 3) if len(pages) > 2 else len(pages) + 1
    kept: list[list[Block]] = []
    dropped = 0
    for blocks, h in zip(pages, heights, strict=True):
        page: list[Block] = []
        for b in blocks:
            margin = _in_margin(b, h)
            if margin and (_LONE_NUMBER.match(b.text.strip()) or seen[_norm(b.text)] >= repeat):
                dropped += 1
                continue
            page.append(b)
        kept.append(page)
    return kept, dropped


def reflow(lines: list[str]) -> list[str]:
    """Join a box's lines into sentences; an item marker (bullet, `1.`, `(a)`) starts a new line."""
    out: list[str] = []
    pending = ""  # a bullet glyph the layout left on a line of its own goes before the next line
    for line in lines:
        if _LONE_BULLET.match(line):
            pending = line.strip()
            continue
        if pending:  # before a line that has its own bullet, the lone one is an orphan glyph: dropped
            line, pending = (line if _ITEM_START.match(line) else f"{pending} {line}"), ""
        if out and not _ITEM_START.match(line):
            prev = out[-1]
            if prev.endswith("-") and len(prev) > 1 and prev[-2].isalpha() and line[:1].islower():
                out[-1] = prev + line  # "e-" + "mailed": keep the hyphen, no space
            else:
                out[-1] = prev + " " + line
        else:
            out.append(line)
    return [re.sub(r"\s{2,}", " ", s) for s in out]


def attach_labels(blocks: list[Block]) -> list[Block]:
    """A lone item label (`1`, `B`) set in the margin beside a paragraph becomes that paragraph's first word."""
    out = list(blocks)
    for label in blocks:
        if len(label.lines) != 1 or not _LABEL.match(label.lines[0].text):
            continue
        lab = label.lines[0]
        beside = [
            b
            for b in out
            if b is not label
            and b.lines[0].x0 >= lab.x1 - 1
            and b.lines[0].top < lab.bottom
            and b.lines[0].bottom > lab.top
        ]
        if not beside:
            continue
        target = min(beside, key=lambda b: b.lines[0].x0 - lab.x1)
        first = target.lines[0]
        target.lines[0] = Line(f"{lab.text} {first.text}", lab.x0, first.x1, first.top, first.bottom, first.size)
        out.remove(label)
    return out


def join_blocks(blocks: list[Block]) -> list[Block]:
    """A paragraph the layout split into two boxes (same size, no sentence end, next starts lowercase) is one."""
    out: list[Block] = []
    for b in blocks:
        if out:
            prev = out[-1]
            last = prev.lines[-1].text
            first = b.lines[0].text
            if (
                abs(prev.size - b.size) < 0.5
                and not _SENTENCE_END.search(last)
                and first[:1].islower()
                and not _ITEM_START.match(first)
            ):
                prev.lines.extend(b.lines)
                continue
        out.append(Block(list(b.lines)))
    return out


@dataclass
class Table:
    """A ruled table: rows of cell texts (a merged cell once, an empty cell as ""), and the lines it took."""

    rows: list[list[str]]
    lines: list[int]  # ids of the Line objects inside it


def _inside(ln: Line, bbox: tuple[float, float, float, float]) -> bool:
    x0, top, x1, bottom = bbox
    cx, cy = (ln.x0 + ln.x1) / 2, (ln.top + ln.bottom) / 2
    return x0 - 1 <= cx <= x1 + 1 and top - 1 <= cy <= bottom + 1


def page_tables(page, blocks: list[Block]) -> list[Table]:
    """Ruled tables pdfplumber finds with two filled columns in some row; a box drawn round a paragraph is not one.

    Cell text is built from the layout lines inside each cell, so footnote markers and re-flow match the prose.
    """
    lines = [ln for b in blocks for ln in b.lines]
    tables: list[Table] = []
    for found in page.find_tables():
        rows: list[list[str]] = []
        taken: list[int] = []
        for row in found.rows:
            cells: list[str] = []
            for bbox in row.cells:
                if bbox is None:
                    continue  # the rest of a merged cell: its text is in the first part
                mine = [ln for ln in lines if _inside(ln, bbox)]
                taken.extend(id(ln) for ln in mine)
                cells.append(" ".join(reflow([ln.text for ln in mine])))
            if any(cells):
                rows.append(cells)
        if not rows or not any(sum(1 for c in r if c) >= 2 for r in rows):
            continue
        tables.append(Table(rows, taken))
    return tables


def _row(cells: list[str]) -> str:
    return cells[0] if len(cells) == 1 else " | ".join(cells)


def split_labels(lines: list[Line]) -> list[list[Line]]:
    """Cut a box where a line is a separate label: the line before neither wrapped (it stops short of the box's
    right edge) nor shares this line's left edge, and this line starts in upper case ("Yes" / "No further action"
    in a flowchart). Left-aligned lines ("Adult" / "Modern" on a cover) and wrapped lines stay together."""
    right = max(ln.x1 for ln in lines)
    groups: list[list[Line]] = [[lines[0]]]
    for a, b in zip(lines, lines[1:], strict=False):
        em = max(a.size, 1.0)
        if b.text[:1].isupper() and abs(b.x0 - a.x0) > em and a.x1 < right - 2 * em:
            groups.append([b])
        else:
            groups[-1].append(b)
    return groups


def render_page(blocks: list[Block], tables: list[Table]) -> str:
    """The page's text: paragraphs separated by blank lines, tables as `cell | cell` rows where they stood."""
    owner = {line_id: i for i, t in enumerate(tables) for line_id in t.lines}
    parts: list[str] = []
    placed: set[int] = set()
    for b in join_blocks(attach_labels(blocks)):
        free = [ln for ln in b.lines if id(ln) not in owner]
        for ln in b.lines:
            i = owner.get(id(ln))
            if i is not None and i not in placed:
                placed.add(i)
                parts.append("\n".join(_row(r) for r in tables[i].rows))
        if free:
            parts.append("\n".join(s for g in split_labels(free) for s in reflow([ln.text for ln in g])))
    return "\n\n".join(parts)
