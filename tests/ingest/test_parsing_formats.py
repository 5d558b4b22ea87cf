"""Documents as partnerships publish them: narrow-column PDFs, footnotes, running headers, diagrams, tables, forms,
encrypted PDFs, hard-wrapped text and deeply nested HTML (issue 15 §4, issue 14 §4)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bench.parsing import bench_parsing, external_formats, fused_markers, sentence_counts
from core.config import Settings
from core.errors import ParseError
from ingest.chunker import chunk_document
from ingest.clean import clean_text
from ingest.discover import SourceFile
from ingest.parsers import parse_bytes
from ingest.pipeline import build_document

ROOT = Path(__file__).resolve().parents[2]

PROSE = (
    "The National Referral Mechanism is the current process in place in the UK for victim identification and "
    "support. It came into effect on 1st April 2009 and the agency collects data about victims to build a "
    "clearer picture of human trafficking."
)


def _text(name: str, data: bytes) -> str:
    parsed = parse_bytes(Path(name), data, max_pages=100)
    return "\n".join(clean_text(p) for p in parsed.pages)


def _wrap(text: str, width: int) -> list[str]:
    lines, cur = [], ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return [*lines, cur]


def _narrow_pdf(pages: int = 3, *, header: bool = True) -> bytes:
    """Pages with a running header, a footer page number, a heading and narrow-column prose."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)  # A4: 595 x 842
    for n in range(1, pages + 1):
        if header:
            c.setFont("Helvetica", 9)
            c.drawString(72, 812, "Adult Modern Slavery Protocol for Local Authorities")
        c.setFont("Helvetica", 9)
        c.drawString(297, 24, str(n))
        c.setFont("Helvetica-Bold", 16)
        c.drawString(72, 740, f"Section {n} heading")
        c.setFont("Helvetica", 10)
        y = 710
        for line in _wrap(PROSE, 45):
            c.drawString(72, y, line)
            y -= 12
        y -= 12
        for item in ("- Fearful, anxious and withdrawn", "- Unable to speak the local language"):
            c.drawString(72, y, item)
            y -= 12
        c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_narrow_columns_reflow_into_sentences_and_keep_items() -> None:
    text = _text("p.pdf", _narrow_pdf())
    assert PROSE in text  # one paragraph again, not 45-character fragments
    assert "\n- Fearful, anxious and withdrawn\n- Unable to speak the local language" in text
    assert "Section 2 heading\n" in text


def test_pdf_running_headers_and_page_numbers_are_removed() -> None:
    text = _text("p.pdf", _narrow_pdf(3))
    assert "Adult Modern Slavery Protocol for Local Authorities" not in text
    assert not [ln for ln in text.split("\n") if ln.strip().isdigit()]
    # on a single page nothing repeats: a top line is kept
    assert "Adult Modern Slavery Protocol" in _text("one.pdf", _narrow_pdf(1))


def test_pdf_footnote_markers_are_separated_from_words() -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    x, y = 72, 700
    for word, mark in (("the NCA collects data", "1"), (" about victims (PV)", "2"), (" and a 45-day", "7")):
        c.setFont("Helvetica", 10)
        c.drawString(x, y, word)
        x += stringWidth(word, "Helvetica", 10)
        c.setFont("Helvetica", 6)
        c.drawString(x, y + 4, mark)
        x += stringWidth(mark, "Helvetica", 6)
    c.setFont("Helvetica", 10)
    c.drawString(x, y, " period of reflection.")
    c.setFont("Helvetica", 6)
    c.drawString(72, 60, "1")
    c.setFont("Helvetica", 8)
    c.drawString(76, 60, ". In practice this may take on average 14 days")
    c.showPage()
    c.save()
    text = _text("f.pdf", buf.getvalue())
    assert "collects data[^1] about victims (PV)[^2] and a 45-day[^7] period of reflection." in text
    assert "1. In practice" in text  # the footnote's own number, at the start of its line, stays a number
    assert fused_markers(text) == 0


def test_pdf_diagram_labels_stay_apart_and_cover_lines_join() -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("Helvetica-Bold", 40)
    for i, word in enumerate(("Adult", "Modern", "Slavery", "Protocol")):
        c.drawString(72, 760 - 44 * i, word)
    c.setFont("Helvetica", 10)
    c.drawString(72, 400, "Issue not resolved")
    c.drawString(330, 400, "Issue resolved")
    c.setFont("Helvetica", 14)
    c.drawCentredString(400, 300, "Yes")  # two flowchart labels, one under the other, centred
    c.drawCentredString(400, 282, "No further action")
    c.showPage()
    c.save()
    text = _text("d.pdf", buf.getvalue())
    assert "Adult Modern Slavery Protocol" in text  # the cover is not one word per line
    assert "resolvedIssue" not in text
    lines = text.split("\n")
    assert "Issue not resolved" in lines and "Issue resolved" in lines
    assert "Yes" in lines and "No further action" in lines


def _table_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("Helvetica", 10)
    c.drawString(72, 760, "Glossary of terms")
    xs, ys = [72, 222, 522], [720, 700, 680, 660]
    c.grid(xs, ys)
    rows = [("Term", "Meaning"), ("CA", "Competent Authority"), ("PV", "")]
    for (a, b), y in zip(rows, ys, strict=False):
        c.drawString(76, y - 14, a)
        if b:
            c.drawString(226, y - 14, b)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_pdf_ruled_table_becomes_rows_with_empty_cells_kept() -> None:
    text = _text("t.pdf", _table_pdf())
    assert "Term | Meaning\nCA | Competent Authority\nPV |" in text
    assert text.count("Competent Authority") == 1  # the table's text is not repeated as prose


def test_pdf_table_rows_carry_their_header_into_chunks() -> None:
    doc = _document("t.pdf", _table_pdf())
    chunks = chunk_document(doc, max_chars=400, min_chars=10)
    row = next(c for c in chunks if "Competent Authority" in c.text)
    assert row.kind == "table"
    empty_last = next(c for c in chunks if "PV |" in c.text)  # a row whose last cell is empty is still a row
    assert empty_last.kind == "table"


def _document(name: str, data: bytes):
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return build_document(SourceFile(path=Path(name), doc_id=name, size=len(data)), data, {}, settings)


def test_citation_offsets_point_into_the_cleaned_pdf_text() -> None:
    doc = _document("p.pdf", _narrow_pdf(3))
    chunks = chunk_document(doc, max_chars=300, min_chars=50)
    assert chunks
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
    pages = [s for s in doc.spans if s.kind == "page"]
    assert [s.label for s in pages] == ["1", "2", "3"]
    on_third = [c for c in chunks if c.start >= pages[2].start]
    assert on_third and all(c.page == 3 for c in on_third)


def _encrypted(user: str, owner: str, algorithm: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(_narrow_pdf(1))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user, owner_password=owner, algorithm=algorithm)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256"])
def test_aes_pdf_with_only_an_owner_password_ingests(algorithm: str) -> None:
    text = _text("aes.pdf", _encrypted("", "owner-secret", algorithm))
    assert "National Referral Mechanism" in text


def test_cryptography_is_a_runtime_dependency() -> None:
    """AES PDFs need it at run time, so a plain install of the package must bring it."""
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.replace(" ", "").startswith("cryptography>=") for d in deps)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_that_needs_a_password_is_reported_as_such(algorithm: str) -> None:
    with pytest.raises(ParseError, match="password-protected"):
        parse_bytes(Path("locked.pdf"), _encrypted("pw", "owner", algorithm), max_pages=10)


def _image_only_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 300, fill=1)
    c.showPage()
    c.save()
    return buf.getvalue()


@pytest.mark.skipif(shutil.which("tesseract") is not None, reason="tesseract is installed: the page is OCR'd")
def test_image_only_pdf_is_reported_as_needing_ocr() -> None:
    with pytest.raises(ParseError, match="OCR"):
        parse_bytes(Path("scan.pdf"), _image_only_pdf(), max_pages=10)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Debian's tesseract-ocr is not installed")
def test_image_only_pdf_is_ocrd_when_tesseract_is_installed() -> None:
    from PIL import Image, ImageDraw, ImageFont
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    img = Image.new("L", (1600, 300), 255)
    draw = ImageDraw.Draw(img)
    draw.text((40, 100), "Refer to the MASH today", fill=0, font=ImageFont.load_default(size=96))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawImage(ImageReader(img), 50, 500, width=500, height=94)
    c.showPage()
    c.save()
    parsed = parse_bytes(Path("scan.pdf"), buf.getvalue(), max_pages=10)
    assert "MASH" in parsed.pages[0]
    assert parsed.extra.get("ocr_pages") == "1"


def test_hard_wrapped_text_reflows_and_keeps_structure() -> None:
    para = (
        "1.1 This overview report summarises the findings of the review undertaken into the death of Baby F. "
        "In accordance with Working Together the report seeks to analyse the events that occurred and to identify "
        "lessons that can be learnt by the partnership and the agencies involved in the case."
    )
    wrapped = "\n\n".join(_wrap(para, 70))
    raw = (
        "  • 1\n\nSERIOUS CASE REVIEW - BABY F\n\nDate: July 2013\n\n  • 2\n\n"
        f"{wrapped}\n\nKey learning:\n· Share information early\n· Check who lives in the home\n\n  • 3\n"
    )
    text = clean_text(raw)
    assert para in text
    assert "SERIOUS CASE REVIEW - BABY F\n" in text
    assert "Key learning:\n· Share information early\n· Check who lives in the home" in text
    assert not [ln for ln in text.split("\n") if ln.strip("• ").isdigit()]
    assert sentence_counts(text)[1] == 0


def test_text_with_paragraph_lines_is_left_alone() -> None:
    raw = "Risks\nNeglect\nDomestic abuse\n\n27.1 The Board considered the report.\nReport by the Chair.\n"
    assert clean_text(raw) == raw


def test_docx_merged_header_once_empty_cells_kept_and_separated() -> None:
    from docx import Document

    doc = Document()
    table = doc.add_table(rows=4, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 2))
    merged.text = "Patient’s personal information"
    for r, cells in enumerate([("Name", "", "Required"), ("NHS number", "", ""), ("Risks", "Falls", "High")], 1):
        for col, value in enumerate(cells):
            table.cell(r, col).text = value
    buf = io.BytesIO()
    doc.save(buf)
    text = _text("form.docx", buf.getvalue())
    assert text.count("Patient’s personal information") == 1
    assert "Name | | Required" in text
    assert "NHS number | |" in text
    assert "Risks | Falls | High" in text


def test_nested_html_is_walked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each element is visited once: no ancestor search per element (that made nested <div><p> quadratic)."""
    from bs4 import Tag

    def refuse(*_a, **_k):
        raise AssertionError("an ancestor walk per element is quadratic on nested markup")

    monkeypatch.setattr(Tag, "find_parent", refuse)
    monkeypatch.setattr(Tag, "find_parents", refuse)
    n = 7500  # about 300 KB, 7,500 levels deep
    data = ("".join(f"<div><p>Paragraph {i} text.</p>" for i in range(n)) + "</div>" * n).encode()
    assert len(data) > 250_000
    text = _text("deep.html", data)
    lines = [ln for ln in text.split("\n") if ln]
    assert lines == [f"Paragraph {i} text." for i in range(n)]


def test_html_nested_blocks_are_taken_once_by_the_outer_block() -> None:
    html = b"<body><blockquote><p>Inner one.</p><p>Inner two.</p></blockquote><ul><li>Item <p>part</p></li></ul>"
    text = _text("n.html", html)
    assert text.count("Inner one.") == 1 and "· Item part" in text


EXTERNAL = external_formats(ROOT)


@pytest.mark.slow
@pytest.mark.skipif(EXTERNAL is None, reason="../shared/external-formats is not present")
def test_real_published_files_meet_the_parsing_targets() -> None:
    report = bench_parsing(EXTERNAL, compare_pypdf=False, html=False)  # type: ignore[arg-type]
    ok = [f for f in report.files if not f.error]
    assert len(ok) >= 10
    sentences, broken = sum(f.sentences for f in ok), sum(f.broken for f in ok)
    assert broken / sentences < 0.02, report.markdown()
    assert sum(f.page_numbers for f in ok) == 0, report.markdown()
    assert sum(f.fused for f in ok) == 0, report.markdown()
    docx = next(f for f in ok if f.name.endswith(".docx"))
    assert docx.tables >= 2
    failed = [f for f in report.files if f.error]
    assert all("OCR" in f.error for f in failed)  # the image-only PDF, when tesseract is absent


def test_ocr_keeps_confident_words_and_joins_split_sentences() -> None:
    from ingest.parsers.ocr import tsv_text

    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        (1, 1, 1, 1, 96.0, "Victims"),
        (1, 1, 1, 2, 95.0, "are"),
        (1, 1, 1, 3, 12.0, "~=("),  # a logo read as letters
        (1, 1, 2, 1, 94.0, "moved"),
        (1, 2, 1, 1, 91.0, "LABOUR"),
    ]
    tsv = "\n".join([head] + [f"5\t1\t{b}\t{p}\t{ln}\t{w}\t0\t0\t9\t9\t{c}\t{t}" for b, p, ln, w, c, t in rows])
    assert tsv_text(tsv) == "Victims are\nmoved\n\nLABOUR"
    assert clean_text(tsv_text(tsv)) == "Victims are moved\n\nLABOUR\n"


def test_pka_bench_parsing_prints_figures_per_file(tmp_path: Path) -> None:
    from tests.servers import run_cli

    prose = " ".join(["The practitioner shared the concern with the designated lead the same day."] * 6)
    (tmp_path / "wrapped.txt").write_text("\n".join(_wrap(prose, 72)) + "\n\n2\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("# Notes\n\nShort.\n", encoding="utf-8")
    result = run_cli(["bench", "parsing", "--folder", str(tmp_path)], {})
    assert result.returncode == 0, result.stderr
    row = next(ln for ln in result.stdout.splitlines() if ln.startswith("| wrapped.txt |"))
    assert "| 0 (0.0%) | 0 | 0 | 0 |" in row  # no broken sentence, page number, fused marker or table
    assert "| notes.md |" in result.stdout and "Nested `<div><p>` HTML" in result.stdout
    missing = run_cli(["bench", "parsing", "--folder", str(tmp_path / "nope")], {})
    assert missing.returncode == 2 and "no folder" in missing.stderr


def test_pdf_text_inside_a_form_xobject_is_kept() -> None:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.beginForm("box")
    c.setFont("Helvetica", 10)
    c.drawString(72, 700, "Text placed through a form XObject is still read.")
    c.endForm()
    c.doForm("box")
    c.showPage()
    c.save()
    assert "Text placed through a form XObject is still read." in _text("x.pdf", buf.getvalue())
