"""What an answer says about its sources: whose document each line quotes (when the store holds more than one
partnership), and a currency note only when it matters: a newer document on the same subject is in the knowledge
base, a quoted term has been replaced, or the question asks what is current and the source is old.

A document's year is its manifest (publication) date's, never one in its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.query import Query
from assistant.scope import DocInfo
from core.glossary import Glossary
from core.types import Citation, SearchHit

_MARKER = re.compile(r"\s*\[(\d+)\]")


def attribute(answer: str, citations: list[Citation], label: Callable[[Citation], str]) -> str:
    """Each line that cites a source says whose document it quotes ("… — ASCP [1]"), unless it already names it."""
    by_n = {c.n: c for c in citations}
    out = []
    for line in answer.split("\n"):
        first = _MARKER.search(line)
        if first is None:
            out.append(line)
            continue
        cited = [by_n[int(n)] for n in _MARKER.findall(line) if int(n) in by_n]
        labels = [x for x in dict.fromkeys(label(c) for c in cited) if x]
        missing = [x for x in labels if x not in line]
        if missing:
            line = f"{line[: first.start()]} — {', '.join(missing)}{line[first.start() :]}"
        out.append(line)
    return "\n".join(out)


def currency_notes(
    query: Query,
    citations: list[Citation],
    hits: list[SearchHit],
    docs: dict[str, DocInfo],
    *,
    successors: dict[str, set[str]],
    glossary: Glossary,
    stale_after_years: int,
    this_year: int,
) -> list[str]:
    """The notes an answer needs about how current its sources are; usually none."""
    notes: list[str] = []
    cited = list(dict.fromkeys(c.document_id for c in citations))
    found = list(dict.fromkeys(h.chunk.doc_id for h in hits))
    for doc_id in cited:
        info = docs.get(doc_id)
        if info is None:
            continue
        newer = [
            docs[d]
            for d in [*sorted(successors.get(doc_id, ())), *found]
            if d in docs and d not in cited and _newer_on_same_subject(docs[d], info, d in successors.get(doc_id, ()))
        ]
        also = [docs[d] for d in cited if d != doc_id and d in docs and _newer_on_same_subject(docs[d], info, False)]
        if also and not newer:
            # Both versions are quoted (each answers the question): say which one is newer, as they may differ.
            n = also[0]
            notes.append(
                f"Note: a newer document on this subject is also quoted: “{n.title}” ({n.year}) is newer than "
                f"“{info.title}” ({info.year}); where they differ, the newer one is likely to apply."
            )
        elif newer:
            n = next(iter(dict.fromkeys(newer)))
            when = f" ({n.year})" if n.year else ""
            notes.append(f"Note: a newer document on this subject is in the knowledge base: “{n.title}”{when}.")
        elif query.current and info.year and stale_after_years and this_year - info.year > stale_after_years:
            notes.append(
                f"Note: this comes from a document of {info.year}; check it is still current "
                "(newer procedures or reports may have replaced it)."
            )
    quoted = " ".join(c.quote for c in citations)
    for term in glossary.old_terms_in(quoted):
        notes.append(f"Note: “{term.term}” ({term.expansion}) has been replaced by {term.replaced_by}.")
    return list(dict.fromkeys(notes))


def _newer_on_same_subject(other: DocInfo, info: DocInfo, replaces: bool) -> bool:
    """A document the manifest says replaces this one; or one of the same partnership and kind, found for the
    same question, published later (next year's annual report, a revised procedure)."""
    if replaces:
        return True
    same = other.partnership == info.partnership and other.doc_type == info.doc_type
    return same and other.year is not None and info.year is not None and other.year > info.year
