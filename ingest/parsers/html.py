"""HTML: scripts and styles dropped; headings become Markdown-style lines; table rows become `a | b`.

One walk over the tree finds the outermost blocks, so deeply nested `<div><p>` costs linear time.
"""

from __future__ import annotations

from collections.abc import Iterator

from bs4 import BeautifulSoup, Tag

from ingest.parsers import Parsed
from ingest.parsers.text import decode

_BLOCKS = ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "blockquote", "dt", "dd", "caption"]
_BLOCK_SET = frozenset(_BLOCKS)


def outer_blocks(root: Tag) -> Iterator[Tag]:
    """Block elements not inside another block, in document order, each visited once (linear in the tree size).

    A nested block's text is taken by its outer block; a table row outside any block is its own line.
    """
    stack: list[Tag] = [root]
    while stack:
        node = stack.pop()
        if node is not root and (node.name in _BLOCK_SET or node.name == "tr"):
            yield node
            continue
        stack.extend(reversed([c for c in node.children if isinstance(c, Tag)]))


def parse_html(data: bytes, max_pages: int) -> Parsed:
    soup = BeautifulSoup(decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]):
        tag.decompose()
    title = ""
    if soup.title and soup.title.string:
        title = soup.title.string.strip()
    lines: list[str] = []
    for el in outer_blocks(soup):
        if el.name == "tr":
            cells = [c.get_text(" ", strip=True) for c in el.find_all(["td", "th"])]
            line = "\t".join(cells)
        else:
            line = el.get_text(" ", strip=True)
            if el.name in ("h1", "h2", "h3", "h4", "h5", "h6") and line:
                line = "#" * int(el.name[1]) + " " + line
                title = title or line.lstrip("# ")
            elif el.name == "li" and line:
                line = "· " + line
        if line.strip():
            lines.append(line)
            lines.append("")
    if not lines:  # no block structure: take the visible text
        lines = [soup.get_text("\n", strip=True)]
    return Parsed(pages=["\n".join(lines)], title_hint=title, media_type="text/html")
