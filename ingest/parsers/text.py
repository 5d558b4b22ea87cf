"""Plain text and Markdown: decode with a BOM or UTF-8, else Windows-1252; refuse binary data."""

from __future__ import annotations

from core.errors import ParseError
from ingest.parsers import Parsed


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(f"declares UTF-16 but does not decode: {exc.reason}") from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    sample = data[:65536]
    if b"\x00" in sample:
        # UTF-16 without a BOM shows as every other byte NUL in mostly-ASCII text.
        if sample.count(b"\x00") > len(sample) // 3:
            for enc in ("utf-16-le", "utf-16-be"):
                try:
                    text = data.decode(enc)
                except UnicodeDecodeError:
                    continue
                if _looks_textual(text):
                    return text
        raise ParseError("looks like a binary file, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if not _looks_textual(text):
        raise ParseError("looks like a binary file, not text")
    return text


def _looks_textual(text: str) -> bool:
    sample = text[:65536]
    if not sample:
        return True
    bad = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\n\r\t\f") or ch == "\ufffd")
    return bad / len(sample) < 0.02


def parse_text(data: bytes, max_pages: int) -> Parsed:
    text = decode(data)
    pages = text.split("\f") if "\f" in text else [text]
    if len(pages) > max_pages:
        raise ParseError(f"has {len(pages)} pages, over the limit of {max_pages}")
    return Parsed(pages=pages if len(pages) > 1 else [text], media_type="text/plain")


def parse_markdown(data: bytes, max_pages: int) -> Parsed:
    text = decode(data)
    title = ""
    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
            break
    return Parsed(pages=[text], title_hint=title, media_type="text/markdown")
