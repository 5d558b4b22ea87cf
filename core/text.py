"""Text helpers shared by ingest, retrieval, answers and evals: tokens, stems, sentences, normalisation."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import Stemmer

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having he her here
    hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
    off on once only or other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves s t don also get got
    did does tell say said us let like much many whats what's there's it's one ones thing things these way really
    roughly typically right now actually each""".split()
)

_stemmer = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[&'’][A-Za-z0-9]+)*")
_NUMBER_COMMAS = re.compile(r"(?<=\d),(?=\d{3}\b)")

NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
}


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def words(text: str) -> list[str]:
    """Lower-cased word tokens; thousands separators dropped so 19,383 is one token."""
    return [w.lower().replace("’", "'") for w in _TOKEN.findall(_NUMBER_COMMAS.sub("", text))]


_YEAR_RANGE = re.compile(r"\b((?:19|20)?(\d{2}))\s?[-/–]\s?((?:19|20)?(\d{2}))\b")


def _expand_years(text: str) -> str:
    """'2021/22', '2021-2022' and '21-22' all become '2021 2022', so periods match however they are written."""

    def repl(m: re.Match[str]) -> str:
        a, b = int(m.group(2)), int(m.group(4))
        full_a = m.group(1) if len(m.group(1)) == 4 else ""
        if b != (a + 1) % 100 or (not full_a and len(m.group(3)) != 2):
            return m.group(0)
        century = full_a[:2] if full_a else "20"
        return f"{century}{a:02d} {century}{b:02d}"

    return _YEAR_RANGE.sub(repl, text)


def terms(text: str, *, keep_stopwords: bool = False) -> list[str]:
    """Stemmed index terms; number words become digits so 'fifteen' matches '15'; year ranges are spelled out."""
    out = []
    for w in words(_expand_years(text)):
        if not keep_stopwords and w in STOPWORDS:
            continue
        w = NUMBER_WORDS.get(w, w)
        out.append(stem(w))
    return out


def normalise(text: str) -> str:
    """For matching quotes: markup and entities removed, case and whitespace folded, punctuation unified."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    text = re.sub(r"\[(?:bookmark|image):[^\]]*\]", " ", text)
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("–", "-")
    text = re.sub(r"[·•\t|*#]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_SENT_END = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[A-Z(“\"‘'0-9£])")


# A full stop that ends a list number ("1."), an initial or a common abbreviation does not end a sentence.
_NO_CUT = re.compile(
    r"(?:^\s*(?:[·•\-–*]\s*)?\(?\d{1,3}[.)]|^\s*\(?[a-z][.)]|\b(?:e\.g|i\.e|etc|Mr|Mrs|Ms|Dr|St|No|vs|[A-Z])\.)$"
)


def sentence_spans(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Split text into lines, and lines into sentences; offsets are absolute (base + index)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        if not line.strip():
            continue
        cuts = [0] + [m.end() for m in _SENT_END.finditer(line) if not _NO_CUT.search(line[: m.start()])]
        cuts.append(len(line))
        for a, b in zip(cuts, cuts[1:], strict=False):
            seg = line[a:b]
            lead = len(seg) - len(seg.lstrip())
            s, e = start + a + lead, start + a + len(seg.rstrip())
            if e > s:
                spans.append((base + s, base + e))
    return spans
