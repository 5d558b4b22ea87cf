"""OCR of image-only PDF pages with Debian's `tesseract` (apt-get install tesseract-ocr), when it is installed.

Imports: stdlib and pypdfium2 (installed with pdfplumber). Without the binary, available() is False and the PDF
parser reports the file as needing OCR, as before.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from core.errors import ParseError

RENDER_DPI = 300
TIMEOUT_S = 120


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
                [exe, str(png), "stdout", "-l", lang], capture_output=True, timeout=TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ParseError(f"OCR of page {index + 1} took over {TIMEOUT_S} s") from exc
    if done.returncode != 0:
        raise ParseError(f"OCR of page {index + 1} failed: {done.stderr.decode(errors='replace')[:200]}")
    return done.stdout.decode("utf-8", errors="replace")
