"""PDF: one page of text per PDF page, so chunks carry page numbers.

pypdf opens the file (and decrypts AES with `cryptography`: a PDF with only an owner password opens, one that needs a
user password is reported as such); pdfplumber/pdfminer lay the page out into text boxes, tables and font sizes
(`ingest.parsers.pdf_layout`), and pages with no text are OCR'd when Debian's `tesseract` is installed.
"""

from __future__ import annotations

import io
import logging

from core.errors import ParseError
from ingest.parsers import Parsed
from ingest.parsers import pdf_layout as layout

for _name in ("pypdf", "pdfminer", "pdfplumber"):
    logging.getLogger(_name).setLevel(logging.ERROR)


def _open(data: bytes, max_pages: int):
    """(pypdf reader, page count, title), refusing files that are not PDFs, need a password, or are too long."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    if not data.lstrip().startswith(b"%PDF"):
        raise ParseError("is not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError as exc:  # pragma: no cover - cryptography is a dependency
                raise ParseError(f"is encrypted with a cipher this install cannot read: {exc}") from exc
            except (FileNotDecryptedError, PdfReadError, ValueError, NotImplementedError) as exc:
                raise ParseError(f"is encrypted and cannot be opened: {exc}") from exc
            if not ok:
                raise ParseError("is password-protected: it needs a password to open, so it cannot be read")
        n = len(reader.pages)
        if n > max_pages:
            raise ParseError(f"has {n} pages, over the limit of {max_pages}")
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise ParseError(f"is a damaged PDF: {exc}") from exc
    return reader, n, title


def _layout_pages(data: bytes) -> tuple[list[list[layout.Block]], list[list[layout.Table]], list[float]]:
    import pdfplumber

    blocks: list[list[layout.Block]] = []
    tables: list[list[layout.Table]] = []
    heights: list[float] = []
    # pdfminer decrypts a PDF that has only an owner password with the empty user password
    with pdfplumber.open(io.BytesIO(data), laparams={"all_texts": True}, password="") as pdf:
        for page in pdf.pages:
            heights.append(float(page.height))
            page_blocks = layout.page_blocks(page.layout, float(page.height))
            blocks.append(page_blocks)
            tables.append(layout.page_tables(page, page_blocks))
            page.flush_cache()
    return blocks, tables, heights


def parse_pdf(data: bytes, max_pages: int) -> Parsed:
    reader, n, title = _open(data, max_pages)
    try:
        blocks, tables, heights = _layout_pages(data)
        blocks, _ = layout.drop_running(blocks, heights)
        pages = [layout.render_page(b, t) for b, t in zip(blocks, tables, strict=True)]
    except ParseError:
        raise
    except Exception:  # noqa: BLE001 - pdfminer raises many types on odd files: fall back to pypdf's text
        pages = [(page.extract_text() or "") for page in reader.pages]
    extra: dict[str, str] = {}
    for i, p in enumerate(pages):
        if not p.strip():  # text the layout found nothing of (unusual structures): pypdf's plain text, if any
            pages[i] = reader.pages[i].extract_text() or ""
    empty = [i for i, p in enumerate(pages) if not p.strip()]
    if empty:
        from ingest.parsers import ocr

        if ocr.available():
            for i in empty:
                pages[i] = ocr.ocr_pdf_page(data, i)
            extra["ocr_pages"] = ",".join(str(i + 1) for i in empty)
    if not any(p.strip() for p in pages):
        if empty and not extra.get("ocr_pages"):
            raise ParseError("has no extractable text (scanned images need OCR: install Debian's tesseract-ocr)")
        raise ParseError("has no extractable text, even after OCR")
    return Parsed(pages=pages, title_hint=title, media_type="application/pdf", extra=extra)
