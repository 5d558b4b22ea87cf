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
            # ASCII in UTF-16-LE has its NULs at odd offsets, in UTF-16-BE at even ones: try the likelier first
            # (either decodes the other's bytes without error, as CJK-looking text)
            big_endian_first = sample[0::2].count(b"\x00") > sample[1::2].count(b"\x00")
            for enc in ("utf-16-be", "utf-16-le") if big_endian_first else ("utf-16-le", "utf-16-be"):
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
        # Not charset-normalizer: on real partnership texts re-encoded (`python -m bench.encodings`) it decoded
        # 219/257 Windows-1252 and 24/58 Latin-1 samples right against 257/257 and 58/58 for this fallback, and
        # took 10x as long (it won only Mac Roman, 7/257 against 0/257). Partnership files that are not UTF-8
        # are Windows-1252, which covers Latin-1's letters.
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
