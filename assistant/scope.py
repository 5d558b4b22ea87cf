"""Which documents a question is about: the partnerships and places it names (from knowledge/places.yaml and the
manifests' partnership of each document), and whether the knowledge base holds anything from there, from the year
it asks about, or of the review it names. A question naming somewhere the store has nothing from is answered
plainly that it has nothing ("The knowledge base holds no documents from Anyshire"), in the wording of
knowledge/signposting.yaml.

Built per store version from the document records, never from any
date inside a document's text: a document's year is its manifest date's (or its title's).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.query import PlaceNames, Query, years_in
from core.errors import BadInput
from core.places import Gazetteer
from core.store import DocumentRecord

WORDING = {
    "no_documents_from": "The knowledge base holds no documents from {place}.",
    "holds": "It holds documents from {sources}.",
    "holds_on_subject": "On this subject it holds documents from {sources}.",
    "no_documents_for_year": "The knowledge base holds no documents{where} from {years}.",
    "holds_years": "It holds documents{where} from {years}.",
    "no_review": "The knowledge base holds no review called {review}{where}.",
    "reviews_held": "The reviews it names{where} are: {reviews}.",
    "partly_missing": "Note: the knowledge base holds no documents from {place}; this answer is from {sources}.",
}


def load_wording(path: Path) -> dict[str, str]:
    """The `scope:` block of signposting.yaml over the defaults above (a partnership words its own answers)."""
    wording = dict(WORDING)
    if not path.exists():
        return wording
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} is not valid YAML: {exc}") from exc
    block = data.get("scope") if isinstance(data, dict) else None
    if isinstance(block, dict):
        wording.update({str(k): str(v) for k, v in block.items() if v})
    return wording


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    title: str
    partnership: str
    doc_type: str
    year: int | None  # of publication: the manifest's date, else a year in the title; never one in the text
    years: frozenset[int]  # the years the document is from or about (a report dated 2022 covers 2021/22)
    places: frozenset[str]  # the areas it is from (with the areas containing them) and its partnership


def doc_info(record: DocumentRecord, places: frozenset[str] = frozenset()) -> DocInfo:
    meta = record.meta
    dated = years_in(meta.date)
    titled = years_in(meta.title)
    year = max(dated) if dated else max(titled) if titled else None
    # A document dated in a year reports on that year and the one before it (an annual report for 2021/22 comes
    # out in 2022); its title may name the period outright.
    covered = titled | dated | {y - 1 for y in dated}
    return DocInfo(
        doc_id=record.doc_id,
        title=meta.title,
        partnership=meta.partnership,
        doc_type=meta.doc_type,
        year=year,
        years=frozenset(covered),
        places=places,
    )


@dataclass(frozen=True)
class Scope:
    """The documents a question is about. `doc_ids` is None when it names no place or partnership."""

    doc_ids: frozenset[str] | None = None
    named: tuple[str, ...] = ()  # what it names that the knowledge base holds documents from
    missing: tuple[str, ...] = ()  # what it names that the knowledge base holds nothing from

    @property
    def scoped(self) -> bool:
        return self.doc_ids is not None


class PlaceIndex(PlaceNames):
    """The places and partnerships of one store state's documents. A partnership counts as a place of its own,
    named by its full name, the aliases places.yaml gives it and the abbreviation in its name ("(ASCP)")."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        records: Iterable[DocumentRecord],
        *,
        generic: Callable[[str], bool] = lambda name: False,
    ) -> None:
        base = gazetteer.copy()  # where documents are from is read before partnerships become names themselves
        records = list(records)
        where_of = {r.doc_id: base.places_of(r.meta.partnership, r.meta.title) for r in records}
        for where in where_of.values():
            for area in where - set(base.forms):
                base.add(area)  # a place only a partnership's name gives ("Testshire")
        self.gazetteer = base.copy()
        partnerships = sorted({r.meta.partnership for r in records if r.meta.partnership})
        for p in partnerships:
            self.gazetteer.add(p)
            for name in self.gazetteer.names_of(p):
                if name != p and not generic(name):
                    self.gazetteer.add_form(name, p)
        self.docs: dict[str, DocInfo] = {}
        for r in records:
            where = where_of[r.doc_id] | ({r.meta.partnership} if r.meta.partnership else set())
            self.docs[r.doc_id] = doc_info(r, frozenset(where))
        self._by_name: dict[str, set[str]] = {}
        for info in self.docs.values():
            for name in info.places:
                self._by_name.setdefault(name, set()).add(info.doc_id)
        self.partnerships = partnerships
        self._generic = generic

    def find_forms(self, text: str) -> list[str]:
        return self.gazetteer.find_forms(text)

    def find(self, text: str) -> set[str]:
        return self.gazetteer.find(text)

    def docs_of(self, name: str) -> set[str]:
        return self._by_name.get(name, set())

    def resolve(self, query: Query) -> Scope:
        """The documents of what the question names. When it names both a wider and a narrower way of saying
        where ("Anyshire's ASCP", "the Vale ... West Vale"), the narrower one decides; places it names side by
        side ("Anyshire and Otherton") are taken together."""
        if not query.places:
            return Scope()
        found = {name: self.docs_of(name) for name in sorted(query.places)}
        missing = tuple(n for n, docs in found.items() if not docs)
        present = {n: docs for n, docs in found.items() if docs}
        keep = [n for n, docs in present.items() if not any(m != n and other < docs for m, other in present.items())]
        doc_ids = frozenset().union(*(present[n] for n in keep)) if keep else frozenset()
        return Scope(doc_ids=frozenset(doc_ids), named=tuple(keep), missing=missing)

    def label(self, partnership: str) -> str:
        """A short name for a partnership in answer lines: its abbreviation when no other partnership here has
        it ("ASCP"), else its name without the abbreviation in brackets ("National (Wales)" stays whole)."""
        names = self.gazetteer.names_of(partnership)
        abbreviations = [n for n in names if n.isupper() and " " not in n and not self._generic(n)]
        for a in abbreviations:
            if sum(1 for p in self.partnerships if a in self.gazetteer.names_of(p)) == 1:
                return a
        return re.sub(r"\s*\([A-Z0-9&]{2,10}\)\s*", " ", partnership).strip() or partnership

    def sources(self, doc_ids: Iterable[str], limit: int = 6) -> str:
        """'ASCP, Otherton Safeguarding Children Partnership and 3 more': whose documents these are."""
        labels = list(dict.fromkeys(self.label(self.docs[d].partnership) or self.docs[d].title for d in doc_ids))
        if len(labels) > limit:
            return ", ".join(labels[:limit]) + f" and {len(labels) - limit} more"
        return " and ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else "".join(labels)


def generic_abbreviation(glossary_terms: Iterable[tuple[str, str]], gazetteer: Gazetteer) -> Callable[[str], bool]:
    """An abbreviation the glossary spells out without naming a place (LSCB: "Local Safeguarding Children Board")
    is a kind of body, not one partnership's name, even when a partnership's name carries it in brackets."""
    generic = {term for term, expansion in glossary_terms if not gazetteer.find(expansion)}
    return lambda name: name in generic


def describe_years(years: Iterable[int]) -> str:
    ys = sorted(set(years))
    if len(ys) == 2 and ys[1] == ys[0] + 1:
        return f"{ys[0]}/{str(ys[1])[-2:]}"
    return ", ".join(map(str, ys))
