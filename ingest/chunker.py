"""Structure-aware chunking: sections by heading, minute items, review blocks, lists with their lead-in, table
rows with their header. Oversized blocks are cut at boundaries chosen by LangChain's recursive splitter.

Offsets are computed here, never trusted from a splitter:
document.text[chunk.start:chunk.end] == chunk.text for every chunk.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from langchain_text_splitters import RecursiveCharacterTextSplitter

from core.types import Chunk, Document

CHUNKER_VERSION = "5"

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+)$")
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})(\.?)\s+(\S.*)$")
_BULLET = re.compile(r"^(?:[·•▪◦●\-–*]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+")
_REVIEW = re.compile(r"^(?:(?:Child|Family|Baby|Sibling|Young Person)\s+(?:[A-Z]{1,2}|\d{1,3})\b|Thematic Review\b)")
_ATTRIBUTE = re.compile(r"^[A-Z][\w ]{1,30}:\s+\S")
_SENTENCE_END = re.compile(r"[.!?;]$")


@dataclass
class Line:
    start: int
    end: int
    text: str
    role: str = "text"  # what the line is: blank heading minute review label bullet row text soft
    level: int = 0
    label: str = ""


@dataclass
class Block:
    lines: list[Line]
    kind: str
    hard_break: bool = False  # must start a new chunk
    section: tuple[str, ...] = ()
    table_header: str = ""
    extra_context: str = ""

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass
class _Pack:
    blocks: list[Block] = field(default_factory=list)

    def size(self) -> int:
        return self.blocks[-1].end - self.blocks[0].start if self.blocks else 0


def _split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    pos = 0
    for raw in text.split("\n"):
        lines.append(Line(start=pos, end=pos + len(raw), text=raw))
        pos += len(raw) + 1
    return lines


def _classify(lines: list[Line]) -> None:
    nonblank = [ln for ln in lines if ln.text.strip()]
    for i, ln in enumerate(lines):
        t = ln.text.strip()
        if not t:
            continue
        # the adjacent lines, for telling a numbered list (1. 2. 3. on consecutive lines) from headings
        prev = lines[i - 1].text.strip() if i > 0 else ""
        after = lines[i + 1].text.strip() if i + 1 < len(lines) else ""
        nxt = after or next((x.text.strip() for x in lines[i + 2 : i + 6] if x.text.strip()), "")
        if m := _MD_HEADING.match(t):
            ln.role, ln.level, ln.label = "heading", len(m.group(1)), m.group(2).strip()
        elif " | " in t or t.endswith(" |"):  # a row whose last cell is empty ends with the separator
            ln.role = "row"
        elif _REVIEW.match(t) and len(t) <= 160:
            ln.role, ln.label = "review", t
        elif (
            (m := _NUMBERED.match(t))
            and ("." in m.group(1) or m.group(2))
            and not _is_list_number(m.group(1), prev, after)
        ):
            number, rest = m.group(1), m.group(3)
            if len(t) <= 80 and not _SENTENCE_END.search(t) and not t.endswith(":") and rest[:1].isupper():
                ln.role, ln.level, ln.label = "heading", number.count(".") + 1, f"{number} {rest}".strip()
            elif "." in number:
                ln.role, ln.label = "minute", number
            else:
                ln.role = "bullet"
        elif _BULLET.match(t):
            ln.role = "bullet"
        elif t.endswith(":") and len(t) <= 40:
            ln.role = "label"
        elif (
            len(t) <= 70
            and t[:1].isupper()
            and not _SENTENCE_END.search(t)
            and not t.endswith(":")
            and len(nxt) > len(t)
        ):
            ln.role = "soft"
    for ln in lines:
        if not ln.text.strip():
            ln.role = "blank"
    del nonblank


def _is_list_number(number: str, prev: str, nxt: str) -> bool:
    """`1. Foo` followed by `2. Bar` (or preceded by its predecessor) is a list item, not a heading."""
    if "." in number:
        return False
    n = int(number)
    return nxt.startswith((f"{n + 1}.", f"{n + 1} ")) or prev.startswith((f"{n - 1}.", f"{n - 1} "))


def _blocks(lines: list[Line]) -> list[Block]:
    """Group lines into blocks that should stay together, each tagged with its heading path."""
    blocks: list[Block] = []
    path: list[tuple[int, str]] = []
    table_header = ""
    cur: Block | None = None

    def close() -> None:
        nonlocal cur
        if cur is not None and cur.lines:
            while cur.lines and cur.lines[-1].role == "blank":
                cur.lines.pop()
            if cur.lines:
                blocks.append(cur)
        cur = None

    def section() -> tuple[str, ...]:
        return tuple(label for _, label in path)

    nonblank = [ln for ln in lines if ln.role != "blank"]
    next_role = {id(a): b.role for a, b in zip(nonblank, nonblank[1:], strict=False)}

    for ln in lines:
        role = ln.role
        if role == "blank":
            if cur is not None and cur.kind in ("list", "review"):
                cur.lines.append(ln)  # lists and review blocks tolerate blank lines between items
            else:
                close()
            continue
        if role == "heading":
            close()
            while path and path[-1][0] >= ln.level:
                path.pop()
            path.append((ln.level, ln.label))
            table_header = ""
            blocks.append(Block([ln], "heading", hard_break=True, section=section()))
            continue
        if role == "row":
            close()
            fresh = not table_header
            if fresh:
                table_header = ln.text.strip()
            # Each row is its own block so rows pack several to a chunk; the header rides in the context.
            blocks.append(Block([ln], "table", hard_break=fresh, section=section(), table_header=table_header))
            continue
        if role == "review":
            if cur is not None and cur.kind == "review" and not _has_bullets(cur):
                cur.lines.append(ln)  # "Child Y Learning Briefing 2022" under "Child Y (not published...)"
                continue
            close()
            cur = Block([ln], "review", hard_break=True, section=section(), extra_context=ln.text.strip())
            continue
        if role == "minute":
            close()
            cur = Block([ln], "minute", hard_break=True, section=section())
            continue
        if role == "bullet":
            if cur is not None and cur.kind in ("list", "review", "minute"):
                cur.lines.append(ln)
                continue
            if cur is not None and cur.lines and cur.lines[-1].text.rstrip().endswith(":"):
                cur.kind = "list"
                cur.lines.append(ln)
                continue
            close()
            cur = Block([ln], "list", section=section())
            continue
        if role == "label":
            # "Key learning:" belongs with what precedes (a review's lead) and the list that follows.
            if cur is not None and cur.kind == "review":
                cur.lines.append(ln)
                continue
            if blocks and blocks[-1].kind in ("text", "review") and cur is None:
                cur = blocks.pop()
                cur.kind = "list" if cur.kind == "text" else cur.kind
                cur.lines.append(ln)
                continue
            close()
            cur = Block([ln], "list", section=section())
            continue
        # text or soft heading
        if cur is not None and cur.kind == "review" and not _has_bullets(cur):
            cur.lines.append(ln)  # the review's lead-in lines before its learning list
            continue
        if cur is not None and cur.kind == "minute" and role == "text" and not _has_bullets(cur):
            cur.lines.append(ln)
            continue
        if (
            cur is not None
            and cur.kind in ("list", "review")
            and _ATTRIBUTE.match(ln.text.strip())
            and len(ln.text) <= 200
            and next_role.get(id(ln)) == "bullet"
        ):
            cur.lines.append(ln)  # "Lead: ..." between two items of a list belongs to the item above it
            continue
        close()
        cur = Block([ln], "soft" if role == "soft" else "text", section=section())
    close()
    return blocks


def _has_bullets(block: Block) -> bool:
    return any(ln.role == "bullet" for ln in block.lines)


def _split_big(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces under max_chars at boundaries LangChain's splitter picks."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_chars,
        chunk_overlap=0,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
        strip_whitespace=False,
    )
    pieces: list[tuple[int, int]] = []
    cursor = start
    for piece in splitter.split_text(text[start:end]):
        # Locate each piece from the cursor on: pieces come in order and do not overlap.
        idx = text.find(piece, cursor, end)
        if idx < 0:
            idx = cursor
        s, e = idx, idx + len(piece)
        cursor = e
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            pieces.append((s, e))
    return pieces


def signature(max_chars: int, min_chars: int) -> str:
    return f"chunker-v{CHUNKER_VERSION}:{max_chars}:{min_chars}"


def chunk_document(document: Document, *, max_chars: int = 1000, min_chars: int = 200) -> list[Chunk]:
    text = document.text
    lines = _split_lines(text)
    _classify(lines)
    blocks = _blocks(lines)
    pages = [s for s in document.spans if s.kind == "page"]
    chunks_hash = doc_hash(document, max_chars, min_chars)

    packs: list[_Pack] = []
    cur = _Pack()
    for block in blocks:
        fits = cur.size() == 0 or (block.end - cur.blocks[0].start) <= max_chars
        same_table = block.kind == "table" and cur.blocks and cur.blocks[-1].kind == "table"
        starts_fresh = block.hard_break and not (same_table and block.table_header == cur.blocks[-1].table_header)
        heading_only = bool(cur.blocks) and all(b.kind in ("heading", "soft") for b in cur.blocks)
        if cur.blocks and ((starts_fresh and not heading_only) or not fits or _ends_unit(cur, block, min_chars)):
            packs.append(cur)
            cur = _Pack()
        cur.blocks.append(block)
    if cur.blocks:
        packs.append(cur)

    chunks: list[Chunk] = []
    for pack in packs:
        first = next((b for b in pack.blocks if b.kind != "heading"), pack.blocks[0])
        section = " › ".join(first.section)
        header = next((b.table_header for b in pack.blocks if b.table_header), "")
        review = next((b.extra_context for b in pack.blocks if b.extra_context), "")
        kind = _pack_kind(pack)
        ranges = [(pack.blocks[0].start, pack.blocks[-1].end)]
        if ranges[0][1] - ranges[0][0] > max_chars:
            ranges = _split_big(text, ranges[0][0], ranges[0][1], max_chars)
        for s, e in ranges:
            if not text[s:e].strip():
                continue
            context = " | ".join(p for p in (document.meta.title, section, review, header) if p)
            chunks.append(_make_chunk(document, len(chunks), s, e, section, kind, context, pages, chunks_hash))
    return chunks


def _ends_unit(cur: _Pack, block: Block, min_chars: int) -> bool:
    """A list or a review ends a chunk once the chunk is big enough, so each unit is retrievable alone."""
    last = cur.blocks[-1]
    return last.kind in ("list", "review", "table") and cur.size() >= min_chars and block.kind not in ("list",)


def _pack_kind(pack: _Pack) -> str:
    kinds = {b.kind for b in pack.blocks}
    for k in ("review", "table", "minute", "list"):
        if k in kinds:
            return k
    return "text"


def doc_hash(document: Document, max_chars: int, min_chars: int) -> str:
    """What a document's chunks were made from: its text and the chunker's version and settings. A change of
    either replaces all of its chunks."""
    key = f"{document.content_hash}:{signature(max_chars, min_chars)}"
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _make_chunk(
    document: Document,
    ordinal: int,
    start: int,
    end: int,
    section: str,
    kind: str,
    context: str,
    pages: list,
    chunks_hash: str,
) -> Chunk:
    page = None
    for span in pages:
        if span.start <= start < span.end or (span.start <= start and span is pages[-1]):
            page = int(span.label)
            break
    digest = hashlib.blake2b(f"{document.doc_id}:{chunks_hash}:{start}:{end}".encode(), digest_size=12).hexdigest()
    return Chunk(
        chunk_id=digest,
        doc_id=document.doc_id,
        ordinal=ordinal,
        text=document.text[start:end],
        start=start,
        end=end,
        section=section,
        page=page,
        kind=kind,
        context=context,
        doc_hash=chunks_hash,
        title=document.meta.title,
        doc_type=document.meta.doc_type,
        partnership=document.meta.partnership,
        year=document.meta.year,
    )
