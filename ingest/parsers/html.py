"""HTML: scripts and styles dropped; headings become Markdown-style lines; table rows become `a | b`."""

from __future__ import annotations

from bs4 import BeautifulSoup

from ingest.parsers import Parsed
from ingest.parsers.text import decode

_BLOCKS = ["p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "blockquote", "dt", "dd", "caption"]


def parse_html(data: bytes, max_pages: int) -> Parsed:
    soup = BeautifulSoup(decode(data), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "object", "svg", "head"]):
        tag.decompose()
    title = ""
    if soup.title and soup.title.string:
        title = soup.title.string.strip()
    lines: list[str] = []
    for el in soup.find_all(_BLOCKS):
        if el.find_parent(_BLOCKS) is not None and el.name not in ("tr",):
            continue  # nested block: its text is taken by the outer one
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
