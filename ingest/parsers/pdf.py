"""PDF with pypdf: one page of text per PDF page, so chunks carry page numbers."""

from __future__ import annotations

import io
import logging

from core.errors import ParseError
from ingest.parsers import Parsed

logging.getLogger("pypdf").setLevel(logging.ERROR)


def parse_pdf(data: bytes, max_pages: int) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip().startswith(b"%PDF"):
        raise ParseError("is not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types for crypto problems
                raise ParseError(f"is encrypted and cannot be opened: {exc}") from exc
            if not ok:
                raise ParseError("is password-protected")
        n = len(reader.pages)
        if n > max_pages:
            raise ParseError(f"has {n} pages, over the limit of {max_pages}")
        pages = [(page.extract_text() or "") for page in reader.pages]
        title = ""
        if reader.metadata and reader.metadata.title:
            title = str(reader.metadata.title).strip()
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise ParseError(f"is a damaged PDF: {exc}") from exc
    if not any(p.strip() for p in pages):
        raise ParseError("has no extractable text (scanned images need OCR first)")
    return Parsed(pages=pages, title_hint=title, media_type="application/pdf")
