"""Parsing benchmark: how clean the canonical text is for real published files (`pka bench parsing`).

Per file: characters, share of sentences broken across lines, lone page-number lines left, fused footnote markers,
tables found, parse seconds; for PDFs also the same figures from pypdf's plain text (the engine before
pdfplumber/pdfminer layout) through the same cleaning; and the time to parse generated nested `<div><p>` HTML at
three sizes (linear parsing keeps the ratio near the size ratio).

Reads the files from a folder (default ../shared/external-formats beside the checkout); they are never copied into
the repository. Run with PYTHONPATH pointing at another checkout to measure that checkout's parsers.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ingest.clean import clean_text
from ingest.parsers import SUPPORTED_SUFFIXES, parse_bytes

MAX_PAGES = 500

_LONE_NUMBER = re.compile(r"^\s*(?:[•·▪●]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
# a footnote number glued to the word before it: "data1", "(PV)2", "45-day7", "responders.3" (not "MS1", "s206")
_FUSED = re.compile(r"(?<![A-Za-z])[a-z]{2,}[.,;:’”)]?\d{1,2}(?![\d/])|\)\d{1,2}(?![\d/.])")
_ITEM = re.compile(r"^(?:[•·▪●◦\-–*#|]\s?|\(?\d{1,3}[.)]\s|\(?[a-z][.)]\s)")


def _is_row(line: str) -> bool:
    return " | " in line or line.endswith(" |")


def _breaks_inside(prev: str, nxt: str) -> bool:
    """A line break inside a sentence: the line before ends in a lower-case letter or a comma and the next text line
    starts in lower case or with a number inside a sentence ("2013* the report", not "1.1 The" after a heading),
    neither being a list item or a table row."""
    if _is_row(prev) or _is_row(nxt) or _ITEM.match(nxt):
        return False
    return bool(re.search(r"[a-z,]$", prev) and re.match(r"[a-z]|\d\S*\s+[a-z]", nxt))


def sentence_counts(text: str) -> tuple[int, int]:
    """(sentences, sentences broken across lines). Sentences end at `.!?` or at a line break that is not inside a
    sentence; one is broken when a break inside a sentence falls within it."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    joined: list[str] = []
    for i, line in enumerate(lines):
        joined.append(line)
        if i + 1 < len(lines):
            joined.append("\x00" if _breaks_inside(line, lines[i + 1]) else "\n")
    pieces = re.split(r"\n|(?<=[.!?])\s+", "".join(joined))
    pieces = [p for p in pieces if re.search(r"[A-Za-z]", p)]
    return len(pieces), sum(1 for p in pieces if "\x00" in p)


def fused_markers(text: str) -> int:
    words = [w for w in text.split() if "/" not in w and "@" not in w and "www." not in w]
    return sum(len(_FUSED.findall(w)) for w in words)


def count_tables(text: str) -> int:
    n, inside = 0, False
    for line in text.split("\n"):
        row = _is_row(line.strip())
        if row and not inside:
            n += 1
        inside = row
    return n


@dataclass
class FileFigures:
    name: str
    chars: int = 0
    sentences: int = 0
    broken: int = 0
    page_numbers: int = 0
    fused: int = 0
    tables: int = 0
    seconds: float = 0.0
    error: str = ""

    @property
    def broken_share(self) -> float:
        return self.broken / max(self.sentences, 1)


def figures(name: str, text: str, seconds: float) -> FileFigures:
    lines = text.split("\n")
    sentences, broken = sentence_counts(text)
    return FileFigures(
        name=name,
        chars=len(text),
        sentences=sentences,
        broken=broken,
        page_numbers=sum(1 for ln in lines if _LONE_NUMBER.match(ln)),
        fused=fused_markers(text),
        tables=count_tables(text),
        seconds=seconds,
    )


def canonical_text(path: Path) -> str:
    """The text ingest stores for this file: each page parsed and cleaned, pages joined by a newline."""
    parsed = parse_bytes(path, path.read_bytes(), max_pages=MAX_PAGES)
    return "\n".join(clean_text(p) for p in parsed.pages)


def pypdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return "\n".join(clean_text(p.extract_text() or "") for p in reader.pages)


def measure(path: Path, extract=canonical_text) -> FileFigures:
    t0 = time.perf_counter()
    try:
        text = extract(path)
    except Exception as exc:  # noqa: BLE001 - a file that fails is a figure too
        return FileFigures(name=path.name, error=str(exc)[:100])
    return figures(path.name, text, time.perf_counter() - t0)


def external_formats(checkout: Path) -> Path | None:
    """../shared/external-formats beside a checkout (or beside the folder holding a worktree), when present."""
    for up in (checkout.parent, checkout.parent.parent):
        folder = up / "shared" / "external-formats"
        if folder.is_dir():
            return folder
    return None


def nested_html(kb: int) -> bytes:
    unit = "<div><p>Item text about the MASH referral.</p>"
    n = kb * 1024 // len(unit)
    return (unit * n + "</div>" * n).encode()


def html_scaling(sizes: tuple[int, ...] = (75, 150, 300)) -> list[tuple[int, float]]:
    out = []
    for kb in sizes:
        data = nested_html(kb)
        t0 = time.perf_counter()
        parse_bytes(Path("nested.html"), data, max_pages=MAX_PAGES)
        out.append((kb, time.perf_counter() - t0))
    return out


@dataclass
class ParsingReport:
    folder: Path
    files: list[FileFigures] = field(default_factory=list)
    pypdf: list[FileFigures] = field(default_factory=list)
    html: list[tuple[int, float]] = field(default_factory=list)

    def markdown(self) -> str:
        def table(rows: list[FileFigures]) -> list[str]:
            out = [
                "| file | chars | sentences | broken across lines | page-number lines | fused markers | tables | s |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            ]
            for f in rows:
                if f.error:
                    out.append(f"| {f.name} | failed: {f.error} | | | | | | |")
                    continue
                out.append(
                    f"| {f.name} | {f.chars} | {f.sentences} | {f.broken} ({f.broken_share:.1%}) | {f.page_numbers} "
                    f"| {f.fused} | {f.tables} | {f.seconds:.2f} |"
                )
            ok = [f for f in rows if not f.error]
            if ok:
                sent, brk = sum(f.sentences for f in ok), sum(f.broken for f in ok)
                out.append(
                    f"| **all** | {sum(f.chars for f in ok)} | {sent} | {brk} ({brk / max(sent, 1):.1%}) "
                    f"| {sum(f.page_numbers for f in ok)} | {sum(f.fused for f in ok)} | {sum(f.tables for f in ok)} "
                    f"| {sum(f.seconds for f in ok):.2f} |"
                )
            return out

        lines = [f"### Parsing: {self.folder.name}", "", *table(self.files)]
        if self.pypdf:
            lines += ["", "PDFs through pypdf's plain text and the same cleaning:", "", *table(self.pypdf)]
        if self.html:
            lines += ["", "Nested `<div><p>` HTML: " + ", ".join(f"{kb} KB {s:.2f} s" for kb, s in self.html)]
        return "\n".join(lines) + "\n"


def bench_parsing(folder: Path, *, compare_pypdf: bool = True, html: bool = True) -> ParsingReport:
    report = ParsingReport(folder)
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUPPORTED_SUFFIXES and p.name != "README.md")
    for path in paths:
        report.files.append(measure(path))
        if compare_pypdf and path.suffix.lower() == ".pdf":
            report.pypdf.append(measure(path, pypdf_text))
    if html:
        report.html = html_scaling()
    return report


if __name__ == "__main__":  # python bench/parsing.py FOLDER (with PYTHONPATH at the checkout to measure)
    import sys

    flags = sys.argv[2:]
    print(
        bench_parsing(
            Path(sys.argv[1]), compare_pypdf="--no-pypdf" not in flags, html="--no-html" not in flags
        ).markdown()
    )
