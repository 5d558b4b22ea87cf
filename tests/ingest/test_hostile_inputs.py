"""Hostile documents through the whole ingest (ingest_corpus with the hashing embedder): each bad file is reported
by name with a reason, the rest completes, and what was good before stays intact.

Complements tests/ingest/test_store_and_ingest.py (empty, random binary, garbage PDF, Latin-1, duplicate, over-size by a
few bytes) and tests/ingest/test_parsing.py (parser-level cases).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from core.config import Settings
from ingest.pipeline import ingest_corpus


def _pdf(pages: list[str]) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for page in pages:
        c.drawString(72, 800, page)
        c.showPage()
    c.save()
    return buf.getvalue()


def _encrypted(pages: list[str], *, user: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(_pdf(pages))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=user, owner_password="owner-secret", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _docx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"<w:document>" + b" " * (300 * 1024 * 1024) + b"</w:document>")
    return buf.getvalue()


def _texts(store) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(c.text + "\n" + c.context for c in store.load_all().chunks)


@pytest.fixture
def baseline(settings: Settings, embedder, store):  # type: ignore[no-untyped-def]
    first = ingest_corpus(settings, embedder=embedder, store=store)
    assert first.ok and len(first.added) == 3
    return {doc_id: (r.content_hash, r.n_chunks) for doc_id, r in store.document_records().items()}


def test_hostile_files_are_reported_and_the_rest_is_ingested(
    settings: Settings, embedder, store, knowledge: Path, baseline
) -> None:
    settings = settings.model_copy(update={"max_pages": 5})
    good_pdf = _pdf(["Page one of the neglect strategy.", "Page two: the toolkit for practitioners."])
    # broken files
    (knowledge / "truncated.pdf").write_bytes(good_pdf[: len(good_pdf) // 2])
    (knowledge / "locked.pdf").write_bytes(_encrypted(["Secret minutes."], user="letmein"))
    (knowledge / "zero.md").write_bytes(b"")
    (knowledge / "elf.txt").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 64)
    (knowledge / "many-pages.pdf").write_bytes(_pdf([f"page {i}" for i in range(12)]))
    (knowledge / "bomb.docx").write_bytes(_docx_bomb())
    with open(knowledge / "huge.txt", "wb") as f:  # 50 MB, sparse: fast to write
        f.truncate(50 * 1024 * 1024)
    (knowledge / "scripts-only.html").write_text("<html><script>var secretToken = 1;</script><style>p{}</style></html>")
    # files that must be ingested
    (knowledge / "owner-only.pdf").write_bytes(
        _encrypted(["Owner-only protection: readable ESCALATION text."], user="")
    )
    (knowledge / "latin.txt").write_bytes("Comité de sécurité: the rapid review procédure.".encode("latin-1"))
    (knowledge / "wide.txt").write_bytes("UTF-16 note: Ωmega escalation protocol for the MASH.".encode("utf-16"))
    (knowledge / "wide-no-bom.txt").write_bytes("Little-endian, no BOM: front door triage.".encode("utf-16-le"))
    (knowledge / "page.html").write_text(
        "<html><head><title>Escalation page</title><script>stealCookies('xss-marker')</script></head><body>"
        "<h1>Escalation</h1><p>Speak to the DSL first.<script>document.write('inline-marker')</script></p>"
        "<noscript>noscript-marker</noscript><!-- comment-marker --><template>template-marker</template>"
        "<p onclick=\"alert('attr-marker')\">Then the MASH.</p><SCRIPT>upper-marker()</SCRIPT>"
        "<p>Unclosed script follows.</p><script>tail-marker()"
    )
    # a duplicate under two new names, and one of an already stored file in a sub-folder
    dup = b"# Twin\n\nThe twin document about strategy discussions.\n"
    (knowledge / "twin-a.md").write_bytes(dup)
    (knowledge / "twin-b.md").write_bytes(dup)
    (knowledge / "archive").mkdir()
    (knowledge / "archive" / "minutes-copy.txt").write_bytes((knowledge / "minutes.txt").read_bytes())

    report = ingest_corpus(settings, embedder=embedder, store=store)

    failed = dict(report.failed)
    assert set(failed) == {
        "truncated.pdf",
        "locked.pdf",
        "zero.md",
        "elf.txt",
        "many-pages.pdf",
        "bomb.docx",
        "huge.txt",
        "scripts-only.html",
    }, report.failed
    assert "damaged" in failed["truncated.pdf"] or "truncated" in failed["truncated.pdf"]
    assert "password" in failed["locked.pdf"]
    assert "empty" in failed["zero.md"]
    assert "binary" in failed["elf.txt"]
    assert "12 pages" in failed["many-pages.pdf"] and "limit of 5" in failed["many-pages.pdf"]
    assert "zip bomb" in failed["bomb.docx"]
    assert "50.0 MB" in failed["huge.txt"] and "25 MB" in failed["huge.txt"]
    assert "no text" in failed["scripts-only.html"]
    skipped = dict(report.skipped)
    assert skipped["twin-b.md"] == "has the same content as twin-a.md"
    assert skipped["archive/minutes-copy.txt"] == "has the same content as minutes.txt"
    assert sorted(report.added) == [
        "latin.txt",
        "owner-only.pdf",
        "page.html",
        "twin-a.md",
        "wide-no-bom.txt",
        "wide.txt",
    ]

    texts = _texts(store)
    assert "Comité de sécurité" in texts and "Ωmega escalation" in texts and "front door triage" in texts
    assert "readable ESCALATION" in texts
    assert "Speak to the DSL first." in texts and "Then the MASH." in texts
    for marker in ("secretToken", "xss-marker", "inline-marker", "noscript-marker", "comment-marker"):
        assert marker not in texts, marker
    for marker in ("template-marker", "attr-marker", "upper-marker", "tail-marker", "stealCookies"):
        assert marker not in texts, marker
    assert "Secret minutes" not in texts
    # the good documents are untouched
    records = store.document_records()
    for doc_id, (content_hash, n) in baseline.items():
        assert (records[doc_id].content_hash, records[doc_id].n_chunks) == (content_hash, n)
    assert report.chunks_total == store.count()


def test_a_good_file_turned_hostile_keeps_its_last_good_version(
    settings: Settings, embedder, store, knowledge: Path, baseline
) -> None:
    before = {c.chunk_id for c in store.load_all().chunks if c.doc_id == "procedure.html"}
    (knowledge / "procedure.html").write_bytes(b"\x00\x01\x02" * 5000)  # now binary
    with open(knowledge / "minutes.txt", "r+b") as f:  # now 50 MB
        f.truncate(50 * 1024 * 1024)
    report = ingest_corpus(settings, embedder=embedder, store=store)
    assert set(dict(report.failed)) == {"procedure.html", "minutes.txt"}
    assert report.unchanged == ["briefing.md"] and report.removed == []
    assert {c.chunk_id for c in store.load_all().chunks if c.doc_id == "procedure.html"} == before
    assert "9 rapid reviews were held" in _texts(store)
    assert store.document_records()["minutes.txt"].content_hash == baseline["minutes.txt"][0]


def test_a_docx_with_lying_sizes_is_refused(settings: Settings, embedder, store, knowledge: Path, baseline) -> None:
    """A real DOCX whose document.xml claims 100 bytes but inflates to 50 MB: refused, not read past the claim."""
    from docx import Document

    doc = Document()
    doc.add_paragraph("A small, honest-looking document.")
    src = io.BytesIO()
    doc.save(src)
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "word/document.xml":
                zout.writestr(info.filename, zin.read(info.filename))
        body = zin.read("word/document.xml").replace(b"<w:body>", b"<w:body>" + b" " * (50 * 1024 * 1024))
        zout.writestr("word/document.xml", body)  # last entry
        offset = zout.infolist()[-1].header_offset
    data = bytearray(out.getvalue())
    small = (100).to_bytes(4, "little")
    data[offset + 22 : offset + 26] = small  # local header: uncompressed size
    cd = data.rfind(b"PK\x01\x02")  # its central directory record is the last one
    data[cd + 24 : cd + 28] = small
    (knowledge / "liar.docx").write_bytes(bytes(data))
    report = ingest_corpus(settings, embedder=embedder, store=store)
    reason = dict(report.failed)["liar.docx"]
    assert "damaged DOCX" in reason or "zip bomb" in reason
    assert sorted(report.unchanged) == sorted(baseline) and not report.added
