"""Parsers and cleaning: every format, the debris the seeds carry, and bad input reported by name."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core.errors import ParseError
from ingest.clean import clean_text
from ingest.parsers import parse_bytes


def _parse(name: str, data: bytes) -> str:
    parsed = parse_bytes(Path(name), data, max_pages=100)
    return "\n".join(clean_text(p) for p in parsed.pages)


def test_clean_removes_conversion_debris() -> None:
    raw = (
        "[bookmark: _Hlk85465272][bookmark: _Hlk57204334]4.6\tESSCP Priorities\n"
        "· [image: Website\n\nDescription automatically generated]As identified as good practice\n"
        "<p>(1) The CYP P&amp;SC should continue</p> <p><b>Owner:</b> Chair</p>\t<p>(1) Updates received.</p>\n"
        "Date:\t3 June 2010\t\n### **Purpose of the Report:**\n\n\n\nText"
    )
    text = clean_text(raw)
    assert "[bookmark" not in text and "[image" not in text and "<p>" not in text and "&amp;" not in text
    assert "4.6 ESSCP Priorities" in text
    assert "· As identified as good practice" in text
    assert "(1) The CYP P&SC should continue Owner: Chair | (1) Updates received." in text
    assert "Date: 3 June 2010" in text
    assert "### Purpose of the Report:" in text
    assert "\n\n\n" not in text


def test_text_encodings() -> None:
    assert "café" in _parse("a.txt", "café society".encode("cp1252"))
    assert "café" in _parse("a.txt", "café society".encode("utf-16"))
    assert "café" in _parse("a.txt", "\ufeffcafé".encode())


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_read_in_its_byte_order(encoding: str) -> None:
    text = "The board met on 3 June. Its chair is independent of the partners — café."
    assert "The board met on 3 June" in _parse("a.txt", text.encode(encoding))


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n ", "empty"),
        ("binary.txt", bytes(range(256)) * 50, "binary"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ntrailer garbage", "damaged PDF"),
        ("notpdf.pdf", b"hello this is not a pdf", "not a PDF"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("x.xyz", b"data", "unsupported"),
    ],
)
def test_bad_files_raise_parse_error_with_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse_bytes(Path(name), data, max_pages=100)


def test_html_drops_scripts_and_keeps_structure() -> None:
    html = (Path(__file__).parents[1] / "fixtures/knowledge/procedure.html").read_bytes()
    text = _parse("p.html", html)
    assert "alert" not in text
    assert "# Resolving professional disagreements" in text
    assert "## Stage 2" in text
    assert "line manager & the DSL" in text
    assert "1 | Practitioner to practitioner" in text


def _pdf(pages: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for page in pages:
        y = 800
        for line in page.split("\n"):
            c.drawString(72, y, line)
            y -= 14
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_pages() -> None:
    parsed = parse_bytes(
        Path("r.pdf"), _pdf(["1. Introduction\nFirst page text.", "Second page about MASH."]), max_pages=10
    )
    assert len(parsed.pages) == 2
    assert "First page" in parsed.pages[0] and "MASH" in parsed.pages[1]


def test_pdf_page_limit() -> None:
    with pytest.raises(ParseError, match="over the limit"):
        parse_bytes(Path("r.pdf"), _pdf(["a", "b", "c"]), max_pages=2)


def test_encrypted_pdf_is_refused() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(_pdf(["secret"]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="pw", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(ParseError, match="password|encrypted"):
        parse_bytes(Path("e.pdf"), buf.getvalue(), max_pages=10)


def test_docx_headings_lists_and_tables() -> None:
    from docx import Document

    doc = Document()
    doc.add_heading("Neglect strategy", level=1)
    doc.add_paragraph("The strategy was launched in 2021.")
    doc.add_paragraph("Use the toolkit", style="List Bullet")
    table = doc.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Priority", "Lead"
    table.cell(1, 0).text, table.cell(1, 1).text = "Safe at Home", "Police"
    buf = io.BytesIO()
    doc.save(buf)
    text = _parse("s.docx", buf.getvalue())
    assert "# Neglect strategy" in text
    assert "· Use the toolkit" in text
    assert "Safe at Home | Police" in text


def test_docx_zip_bomb_is_refused() -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"\0" * (220 * 1024 * 1024))
    with pytest.raises(ParseError, match="zip bomb"):
        parse_bytes(Path("bomb.docx"), buf.getvalue(), max_pages=10)
