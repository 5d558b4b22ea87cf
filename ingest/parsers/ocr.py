"""OCR of image-only PDF pages with Debian's `tesseract` (apt-get install tesseract-ocr), when it is installed.

Without the binary, available() is False and the PDF
parser reports the file as needing OCR, as before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from core.errors import ParseError

RENDER_DPI = 300
TIMEOUT_S = 120
MIN_CONFIDENCE = 60  # tesseract's per-word confidence (0-100): below it a "word" is usually a logo or a smudge


def available() -> bool:
    return shutil.which("tesseract") is not None


def ocr_pdf_page(data: bytes, index: int, lang: str = "eng") -> str:
    """The text tesseract reads on page `index` (0-based), rendered at RENDER_DPI."""
    import pypdfium2 as pdfium

    exe = shutil.which("tesseract")
    if exe is None:
        raise ParseError("needs OCR, and tesseract is not installed")
    pdf = pdfium.PdfDocument(data)
    try:
        image = pdf[index].render(scale=RENDER_DPI / 72).to_pil()
    finally:
        pdf.close()
    with tempfile.TemporaryDirectory(prefix="pka-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        image.save(png)
        try:
            done = subprocess.run(
                [exe, str(png), "stdout", "-l", lang, "tsv"],
                capture_output=True,
                timeout=TIMEOUT_S,
                check=False,
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},  # one core per page: ingest parses files in threads
            )
        except subprocess.TimeoutExpired as exc:
            raise ParseError(f"OCR of page {index + 1} took over {TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise ParseError(f"OCR of page {index + 1} failed: {done.stderr.decode(errors='replace')[:200]}")
    return tsv_text(done.stdout.decode("utf-8", errors="replace"))


def tsv_text(tsv: str) -> str:
    """Tesseract's TSV as text: confident words, a line per OCR line, a blank line between paragraphs (cleaning
    re-flows the lines into sentences)."""
    paragraphs: dict[tuple[int, int, int], dict[int, list[str]]] = {}
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or not cols[11].strip():
            continue
        try:
            conf = float(cols[10])
            page, block, par, line = (int(c) for c in cols[1:5])
        except ValueError:
            continue
        if conf < MIN_CONFIDENCE:
            continue
        paragraphs.setdefault((page, block, par), {}).setdefault(line, []).append(cols[11].strip())
    out = ""
    for _, lines in sorted(paragraphs.items()):
        text = "\n".join(" ".join(words) for _, words in sorted(lines.items()))
        # a paragraph that starts in lower case goes on the sentence before it (tesseract split a column)
        out += ("\n" if text[:1].islower() else "\n\n") + text if out else text
    return out
