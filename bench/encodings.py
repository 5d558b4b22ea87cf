"""Text-encoding guessing, ours (ingest/parsers/text.py: a BOM, UTF-8, else Windows-1252) against
charset-normalizer, on real partnership texts re-encoded in legacy encodings, and on binary data.

Reads the UTF-8 .txt files of ../shared/corpora/partnerships (never copied) and the knowledge folder's .md files,
keeps those with non-ASCII text, adds a copy of each with accented names in it, and encodes each at three lengths.
A decode is right when it gives back exactly the text that was encoded. `python -m bench.encodings`.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from charset_normalizer import from_bytes

from core.errors import ParseError
from ingest.parsers.text import _looks_textual, decode

ROOT = Path(__file__).resolve().parents[1]
ENCODINGS = ["cp1252", "latin-1", "utf-16-le", "utf-16-be", "mac_roman"]
_ACCENTED = ["café", "Zoë", "naïve", "résumé", "São Paulo", "Müller", "£250", "©", "Señora"]


def ours(data: bytes) -> str | None:
    try:
        return decode(data)
    except ParseError:
        return None


def charset_normalizer(data: bytes) -> str | None:
    """The same BOM and UTF-8 steps, then charset-normalizer's best guess instead of Windows-1252."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if b"\x00" not in data[:65536]:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    best = from_bytes(data).best()
    text = None if best is None else str(best)
    return text if text is not None and _looks_textual(text) else None


def samples(checkout: Path = ROOT) -> list[str]:
    corpus = next((p for p in (checkout.parent, checkout.parent.parent) if (p / "shared" / "corpora").is_dir()), None)
    files = sorted((corpus / "shared" / "corpora" / "partnerships").glob("*.txt")) if corpus else []
    files += sorted((checkout / "knowledge").glob("*.md"))
    texts = [t for t in (f.read_text(encoding="utf-8") for f in files) if any(ord(c) > 127 for c in t)]
    rng = random.Random(3)
    accented = [
        re.sub(r"\bthe\b", lambda m: rng.choice(_ACCENTED) if rng.random() < 0.05 else m.group(0), t) for t in texts
    ]
    return texts + accented


def measure(guess: Callable[[bytes], str | None], texts: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for enc in ENCODINGS:
        right = n = 0
        for text in texts:
            for size in (300, 3000, None):
                piece = text[:size]
                want = piece.encode(enc, errors="ignore").decode(enc)
                if want.isascii():
                    continue  # nothing left to guess
                n += 1
                right += guess(want.encode(enc)) == want
        out[enc] = f"{right}/{n}"
    rng = random.Random(1)
    blobs = [bytes(rng.randrange(256) for _ in range(rng.choice([200, 5000]))) for _ in range(50)]
    out["binary refused"] = f"{sum(guess(b) is None for b in blobs)}/{len(blobs)}"
    return out


def main() -> None:
    texts = samples()
    print(f"{len(texts)} texts")
    for name, guess in (("ours", ours), ("charset-normalizer", charset_normalizer)):
        t0 = time.perf_counter()
        figures = measure(guess, texts)
        print(f"{name}: {figures} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
