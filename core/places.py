"""Places as data: the areas a question may name, their other names, and which areas contain which, read from
knowledge/places.yaml; and finding them in a text.

No place is named in code: every name comes from the file (or, for a partnership the
file does not list, from the start of its name: "Testshire Safeguarding Children Partnership" is about Testshire).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import BadInput

# Words that begin a partnership's name without naming a place ("The Local Safeguarding Children Board").
_GENERIC_LEAD = {"local", "national", "pan", "our", "multi", "agency", "county", "council", "partnership", "the"}
# "Testshire Safeguarding Children Partnership", "Otherton Safeguarding Children's Partnership": the words before
# "Safeguarding" name where the partnership is (English names of these bodies put the place first).
_PARTNERSHIP_PLACE = re.compile(r"^\s*([A-Z][A-Za-z&' -]{1,60}?)\s+(?:Local\s+)?(?:Children'?s\s+)?Safeguarding\b")
# "(ASCP)", "(ABC)", "(4LSCB)": an abbreviation in capitals in brackets after a name.
_ABBREVIATION = re.compile(r"\(([A-Z0-9][A-Z0-9&]{1,9})\)")


@dataclass
class Gazetteer:
    """Areas by canonical name. `forms` maps each way of writing an area (its name and aliases) to the area."""

    forms: dict[str, set[str]] = field(default_factory=dict)
    parents: dict[str, set[str]] = field(default_factory=dict)
    partnership_aliases: dict[str, list[str]] = field(default_factory=dict)
    partnership_places: dict[str, list[str]] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None
    _lower: dict[str, list[str]] = field(default_factory=dict)

    def copy(self) -> Gazetteer:
        return Gazetteer(
            forms={f: set(a) for f, a in self.forms.items()},
            parents={a: set(p) for a, p in self.parents.items()},
            partnership_aliases=dict(self.partnership_aliases),
            partnership_places=dict(self.partnership_places),
        )

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        """Read places.yaml; a missing file gives an empty gazetteer (places then come from partnership names)."""
        if not path.exists():
            return cls()
        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BadInput(f"{path} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise BadInput(f"{path}: expected a mapping with `areas`, `aliases` and `partnerships`")
        g = cls()
        for area, body in (data.get("areas") or {}).items():
            g.add(str(area))
            for child in (body or {}).get("contains") or []:
                g.add(str(child), parent=str(area))
        for area, aliases in (data.get("aliases") or {}).items():
            g.add(str(area))
            for alias in aliases or []:
                g.add_form(str(alias), str(area))
        for name, body in (data.get("partnerships") or {}).items():
            body = body or {}
            g.partnership_aliases[str(name)] = [str(a) for a in body.get("aliases") or []]
            g.partnership_places[str(name)] = [str(p) for p in body.get("places") or []]
            for p in g.partnership_places[str(name)]:
                g.add(p)
        return g

    def add_form(self, form: str, area: str) -> None:
        """Another way of writing `area` (an alias, an abbreviation); one form may stand for several areas."""
        self.forms.setdefault(form, set()).add(area)
        self._pattern = None

    def add(self, area: str, *, parent: str | None = None) -> None:
        self.add_form(area, area)
        self.parents.setdefault(area, set())
        if parent:
            self.add(parent)
            self.parents[area].add(parent)
        self._pattern = None

    # ---- finding places in text ---------------------------------------------------------------------------------
    def find(self, text: str) -> set[str]:
        """The areas a text names, by canonical name. Longer names win ("West Vale" is not also "Vale")."""
        return set().union(*(self.forms[f] for f in self.find_forms(text))) if self.forms else set()

    def find_forms(self, text: str) -> list[str]:
        """The written forms of areas found in a text, longest match first, without overlaps."""
        if not self.forms or not text:
            return []
        pattern = self._compiled()
        lower_only = text == text.lower()  # a message typed in lower case carries no capitals to go by
        found = []
        for m in pattern.finditer(text):
            written = m.group(0)
            forms = self._lower.get(written.lower(), [])
            exact = [f for f in forms if f == written]
            if exact:
                found.append(exact[0])
            elif forms and (" " in forms[0] or lower_only):
                found.append(forms[0])
            # else one word is a place only as written: "Hope", not "hope"; "ABC", not "abc"
        return found

    def _compiled(self) -> re.Pattern[str]:
        if self._pattern is None:
            self._lower = {}
            for form in self.forms:
                self._lower.setdefault(form.lower(), []).append(form)
            alternatives = sorted(self._lower, key=len, reverse=True)
            body = "|".join(re.escape(f) for f in alternatives)
            self._pattern = re.compile(rf"(?<![\w&-])(?:{body})(?![\w&]|-\w)", re.IGNORECASE)
        return self._pattern

    # ---- containment ---------------------------------------------------------------------------------------------
    def ancestors(self, area: str) -> set[str]:
        """The area and every area that contains it."""
        out, todo = set(), [area]
        while todo:
            a = todo.pop()
            if a not in out:
                out.add(a)
                todo.extend(self.parents.get(a, ()))
        return out

    # ---- a partnership's places and names -------------------------------------------------------------------------
    def places_of(self, partnership: str, title: str = "") -> set[str]:
        """Where a document is from: areas named in its partnership and its title, the places the file gives the
        partnership, or else the place its name starts with; with every area containing them."""
        direct = set(self.partnership_places.get(partnership, ())) | self.find(partnership) | self.find(title)
        if not direct:
            learned = partnership_place(partnership)
            if learned:
                direct.add(learned)
        return set().union(*(self.ancestors(a) for a in direct)) if direct else set()

    def names_of(self, partnership: str) -> list[str]:
        """Ways of naming a partnership: its full name, the file's aliases, and abbreviations in its name."""
        names = [partnership, *self.partnership_aliases.get(partnership, [])]
        names += _ABBREVIATION.findall(partnership)
        return [n for n in dict.fromkeys(n.strip() for n in names) if n]


def partnership_place(partnership: str) -> str:
    """The place a partnership's name starts with, when every word of it is a capitalised non-stopword."""
    m = _PARTNERSHIP_PLACE.match(partnership)
    if not m:
        return ""
    from core.text import STOPWORDS  # here, not at the top: core.text loads the stemmer; only this fallback needs it

    place = m.group(1).strip()
    words = place.replace("-", " ").split()
    if all(w[:1].isupper() and w.lower() not in STOPWORDS | _GENERIC_LEAD for w in words if w != "and"):
        return place
    return ""
