"""Re-flow hard-wrapped text into sentences and paragraphs, and drop lone page-number lines.

Works on cleaned lines (stripped, no tabs). Headings, list items and table rows keep their own
lines; a line joins the one before it only when the break is inside a sentence:
- the line before ends without a sentence end and this line starts in lower case (any text), or
- the text is hard-wrapped (most lines end near one width) and the line before ran to that width without ending
  a sentence.
"""

from __future__ import annotations

import re

_ITEM = re.compile(
    r"^(?:[#>|]|[•·▪●◦■□‣⁃➢✓*\-–—]\s|\(?\d{1,3}(?:\.\d{1,3})*[.)]?\s|\(?[a-z][.)]\s|\(?[ivx]{1,4}[.)]\s|\[\^)"
)
_NUMBER_IN_SENTENCE = re.compile(r"^\d\S*\s+[a-z]")  # "2013* the report", "45 days": not "1.4 The", "2 A"
_END = re.compile(r"[.!?:;]['\"’”)\]]*$")
LONE_NUMBER = re.compile(r"^(?:[•·▪●]\s*)?(?:page\s+)?(\d{1,4})(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)

NEAR_WIDTH = 0.75  # a line this close to the wrap width was wrapped, not ended
MAX_WRAP = 120  # wider than this, lines are paragraphs, not wrapped lines
MIN_WRAP = 50  # narrower than this, short lines are items or labels, not wrapped prose
LOWER_SHARE = 0.1  # share of line breaks that certainly fall inside a sentence, in hard-wrapped prose
MIN_WRAPPED = 3  # ...and at least this many of them


def _is_row(line: str) -> bool:
    return " | " in line or line.endswith(" |") or line.startswith("| ")


def wrap_width(lines: list[str]) -> int:
    """The width a hard-wrapped text was wrapped at, or 0 when it is not hard-wrapped.

    The evidence is the lines that certainly wrapped (no sentence end, next line in lower case): when there are
    enough of them, their median length is the width, if it lies between MIN_WRAP and MAX_WRAP characters."""
    text = [ln for ln in lines if ln and not _is_row(ln)]
    wrapped = sorted(len(a) for a, b in zip(text, text[1:], strict=False) if not _END.search(a) and b[:1].islower())
    if len(wrapped) < MIN_WRAPPED or len(wrapped) < LOWER_SHARE * (len(text) - 1):
        return 0
    width = wrapped[len(wrapped) // 2]
    return width if MIN_WRAP <= width <= MAX_WRAP else 0


def _continues(prev: str, last: int, line: str, width: int) -> bool:
    """Whether `line` goes on the sentence `prev` ends; `last` is the length of prev's last physical line."""
    if not prev or not line or _ITEM.match(line) or _is_row(prev) or _is_row(line) or prev.startswith("#"):
        return False
    if _END.search(prev):
        return False
    if line[:1].islower():
        return True
    starts_ok = not line[:1].isdigit() or _NUMBER_IN_SENTENCE.match(line)
    return bool(width) and last >= NEAR_WIDTH * width and bool(starts_ok)


def reflow_lines(lines: list[str]) -> list[str]:
    """Join lines broken inside a sentence; in hard-wrapped text a single blank line inside a sentence goes too."""
    width = wrap_width(lines)
    out: list[str] = []
    last = 0  # length of the last physical line that went into out[-1 - gap]
    for line in lines:
        if line and out:
            gap = 1 if width and not out[-1] and len(out) > 1 and out[-2] else 0
            prev = out[-1 - gap]
            if _continues(prev, last, line, width):
                if gap:
                    out.pop()
                hyphen = prev.endswith("-") and prev[-2:-1].isalpha() and line[:1].islower()
                out[-1] = prev + line if hyphen else f"{prev} {line}"
                last = len(line)
                continue
        out.append(line)
        if line:
            last = len(line)
    return out


def drop_page_numbers(lines: list[str]) -> tuple[list[str], int]:
    """Drop lone number lines at the page's edges, and runs of them counting up (page or slide numbers)."""
    idx = [i for i, ln in enumerate(lines) if LONE_NUMBER.match(ln)]
    if not idx:
        return lines, 0
    text_idx = [i for i, ln in enumerate(lines) if ln]
    edges = {text_idx[0], text_idx[-1]} if text_idx else set()
    drop = {i for i in idx if i in edges}
    numbers = [(i, int(LONE_NUMBER.match(lines[i]).group(1))) for i in idx]  # type: ignore[union-attr]
    for (i, a), (j, b) in zip(numbers, numbers[1:], strict=False):
        if 0 < b - a <= 2:
            drop.update((i, j))
    return [ln for i, ln in enumerate(lines) if i not in drop], len(drop)
