"""The safeguarding glossary: abbreviations, expansions and synonym groups, used to expand queries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.errors import BadInput
from core.text import terms


@dataclass(frozen=True)
class Term:
    term: str
    expansion: str
    synonyms: tuple[str, ...] = ()
    note: str = ""
    replaced_by: str = ""  # an old term's current equivalent ("SCR" -> "LCSPR, since 2019")


@dataclass
class Glossary:
    terms: list[Term] = field(default_factory=list)
    synonym_groups: list[tuple[str, ...]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        if not path.exists():
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BadInput(f"{path} is not valid YAML: {exc}") from exc
        items = [
            Term(
                term=str(t["term"]),
                expansion=str(t["expansion"]),
                synonyms=tuple(str(s) for s in t.get("synonyms", []) or []),
                note=str(t.get("note", "") or ""),
                replaced_by=str(t.get("replaced_by", "") or ""),
            )
            for t in data.get("terms", []) or []
        ]
        groups = [tuple(str(s) for s in g) for g in data.get("synonyms", []) or []]
        return cls(terms=items, synonym_groups=groups)

    def expand(self, query: str) -> str:
        """Extra words for a query: expansions of abbreviations it uses, abbreviations of phrases it spells out,
        and synonyms. The original query is not repeated."""
        extra: list[str] = []
        q_terms = " " + " ".join(terms(query)) + " "
        for t in self.terms:
            if re.search(
                rf"(?<![\w&]){re.escape(t.term)}(?![\w&])", query, flags=re.IGNORECASE if len(t.term) > 3 else 0
            ):
                extra.append(t.expansion)
            phrases = (t.expansion, *t.synonyms)
            if any(_has_phrase(q_terms, p) for p in phrases):
                extra.append(t.term)
                extra.append(t.expansion)
            if t.replaced_by and t.term in extra:
                extra.append(t.replaced_by)  # an old term also finds what its successor is called
        for group in self.synonym_groups:
            if any(_has_phrase(q_terms, p) for p in group):
                extra.extend(group)
        seen: set[str] = set()
        out = [w for w in extra if not (w.lower() in seen or seen.add(w.lower()))]  # type: ignore[func-returns-value]  # set.add returns None
        return " ".join(out)

    def alternatives(self, query: str) -> dict[str, set[str]]:
        """For each stemmed term of the query, the stems that the glossary says mean the same thing."""
        out: dict[str, set[str]] = {}
        q_terms = set(terms(query))
        links: list[tuple[set[str], set[str]]] = []
        for t in self.terms:
            abbrev = set(terms(t.term))
            for phrase in (t.expansion, *t.synonyms):
                links.append((abbrev, set(terms(phrase))))
        for group in self.synonym_groups:
            stems = [set(terms(p)) for p in group]
            for a in stems:
                for b in stems:
                    if a is not b:
                        links.append((a, b))
        for a, b in links:
            for x, y in ((a, b), (b, a)):
                if x and x <= q_terms:  # the whole phrase is in the query: each of its terms may be said as y
                    for term in x:
                        out.setdefault(term, set()).update(y - q_terms)
        return out

    def old_terms_in(self, text: str) -> list[Term]:
        """Superseded terms the text uses (SCR, LSCB, CCG ...), each with what replaced it."""
        found = []
        for t in self.terms:
            if not t.replaced_by:
                continue
            for name in (t.term, t.expansion):
                flags = 0 if name.isupper() else re.IGNORECASE
                if re.search(rf"(?<![\w&]){re.escape(name)}s?(?![\w&])", text, flags=flags):
                    found.append(t)
                    break
        return found

    def as_dicts(self) -> list[dict[str, object]]:
        return [
            {
                "term": t.term,
                "expansion": t.expansion,
                "synonyms": list(t.synonyms),
                "note": t.note,
                "replaced_by": t.replaced_by,
            }
            for t in self.terms
        ]


def _has_phrase(q_terms: str, phrase: str) -> bool:
    p = " ".join(terms(phrase))
    return bool(p) and f" {p} " in q_terms
