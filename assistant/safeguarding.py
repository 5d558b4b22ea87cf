"""What a general document assistant misses: answers from the review index (one review, or the themes across all
of them), a "which one?" answer for ambiguous review names, and the urgent-concern safety path.

Imports: stdlib, pyyaml, core, assistant. Every line it writes is quoted from, and cited to, a stored passage,
except the fixed signposting configured in knowledge/signposting.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.citing import Citer
from assistant.compose import Composition
from assistant.query import Query, QueryParser
from assistant.retrieval import Retriever
from assistant.reviews import Review, Theme, build_index, label, load_themes, theme_counts
from core.errors import BadInput
from core.text import terms
from core.types import Chunk

_THEMES_Q = re.compile(
    r"\b(?:themes?|keeps? coming up|come up (?:most|again)|recurr\w*|common (?:issues|learning|threads?)|"
    r"patterns?|across (?:our |the |all )?(?:rapid )?reviews|(?:reviews|they) (?:have )?(?:said|say) about)\b",
    re.I,
)
_REVIEWS_WORD = re.compile(r"\breviews?\b|\blcsprs?\b|\bscrs?\b", re.I)
_LEARNING_Q = re.compile(r"\b(?:learn\w*|teach\w*|taught|lessons?|key points|about)\b", re.I)


_KIND_WORDS = {
    "rapid review": re.compile(r"\brapid reviews?\b", re.I),
    "LCSPR": re.compile(r"\blcsprs?\b|\bpractice reviews?\b", re.I),
    "SCR": re.compile(r"\bscrs?\b|\bserious case reviews?\b", re.I),
}


# ---- urgent concern -----------------------------------------------------------------------------------------
_CHILD = (
    r"(?:child|children|kid|boy|girl|baby|babies|infant|toddler|teen(?:ager)?|young person|pupil|student|son|"
    r"daughter|sibling|newborn|\d{1,2}[- ]?(?:year|month|week)[- ]?old)s?"
)
_DISCLOSURE = re.compile(
    rf"\b(?:{_CHILD})\b[^.?!]{{0,40}}?\b(?:has |have |just )?(?:told|tells|disclosed|discloses|said|says|is saying|"
    r"confided|showed|shows|admitted|mentioned|reported)\b"
    r"|\b(?:has|have|just) disclosed\b|\bdisclosed to (?:me|us)\b|\btold (?:me|us) (?:that )?(?:she|he|they)\b",
    re.I,
)
_LIVE = re.compile(
    r"\b(?:right now|now|today|tonight|this (?:morning|afternoon|evening)|at the moment|currently|just now|"
    r"is with me|in front of me|on my caseload|i(?:'m| am) (?:worried|concerned|scared|frightened)|"
    r"i(?:'ve| have) (?:just )?(?:seen|noticed|found)|i think (?:a|the|this|my) |we(?:'re| are) worried|"
    r"doesn'?t want to go home|won'?t go home|refus\w+ to go home|hasn'?t been seen|i(?:'m| am) (?:seeing|visiting)|"
    r"during (?:my|a|the) (?:visit|session|appointment|lesson)|again)\b",
    re.I,
)
_HARM = re.compile(
    r"\b(?:bruis\w*|injur\w*|marks?|burns?|fractur\w*|hit|hits|hitting|beat\w*|punch\w*|kick\w*|slapp\w*|shak\w*|"
    r"hurt\w*|abus\w*|touch\w*|sexual\w*|rap\w+|assault\w*|self[- ]harm\w*|cutting|suicid\w*|overdos\w*|"
    r"knife|weapon|threat\w*|scared|frightened|afraid|missing|run(?:ning)? away|locked|left alone|"
    r"unsupervised|starv\w*|hungry|no food|neglect\w*|drunk|drugs?|county lines|groom\w*|exploit\w*|"
    r"fgm|cut(?:ting)? ritual|forced (?:to )?marr\w*|kicked out|homeless|violence|domestic abuse|strangl\w*|"
    r"unexplained|not breathing|unresponsive|black eye|wants? to die|kill (?:her|him|them)sel(?:f|ves)|"
    r"end (?:her|his|their) life|hasn'?t been seen|(?:to be|get) married|flinch\w*|planning fgm|cuts?|alcohol|"
    r"older (?:men|man|boys?)|sleeping (?:in a car|rough|on the streets?)|nowhere to (?:stay|sleep|go))\b",
    re.I,
)
_KNOWLEDGE_Q = re.compile(
    r"\b(?:how many|what (?:did|does|do) (?:the|our|their) (?:review|report|annual report|minutes|board|partnership|"
    r"procedure|protocol|policy|training)|which reviews?|themes?|in (?:the |our )?(?:annual )?report|statistics|"
    r"figures?|numbers? of|learning from|what did .{0,30} (?:teach|say)|who chairs|priorit\w+|training courses?)\b",
    re.I,
)


_INTERROGATIVE = re.compile(
    r"^\W*(?:what|which|how|who|whom|whose|when|where|why|is there|are there|do|does|did|can|could|should|tell me|"
    r"give me|summari[sz]e|list|show|explain|describe|compare|find)\b",
    re.I,
)
_SPECIFIC_CHILD = re.compile(
    r"\b(?:a|an|the|this|that|my|our|one of my|one of our|one of the|his|her|their|mum's|dad's)\s+"
    rf"(?:[\w'-]+\s+){{0,2}}{_CHILD}\b|\b\d{{1,2}}[- ]?(?:year|month|week|day)[- ]?old\b"
    r"|\b(?:twins|a lad|my client|the kids|the family)\b",
    re.I,
)


def is_urgent(question: str) -> bool:
    """A message that describes a live situation of a particular child, rather than asking what the documents say.

    Rules, in order: a question about documents, figures or reviews is not urgent unless it reports a disclosure;
    a child's disclosure of harm is urgent; a statement (not a question) about a particular child is urgent;
    a question that names a particular child, a harm and a live framing ("I'm worried", "today") is urgent.
    """
    q = question.strip()
    disclosure = bool(_DISCLOSURE.search(q) and _HARM.search(q))
    if _KNOWLEDGE_Q.search(q) and not disclosure:
        return False
    if disclosure:
        return True
    specific = _SPECIFIC_CHILD.search(q)
    first = re.split(r"[.?!]\s", q, maxsplit=1)[0]
    if specific and not _INTERROGATIVE.match(first):
        return True
    return bool(specific and _LIVE.search(q) and _HARM.search(q))


@dataclass
class Signposting:
    default: dict[str, str] = field(default_factory=dict)
    partnerships: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Signposting:
        if not path.exists():
            return cls(default={"immediate_danger": "If a child is in immediate danger, call 999 now."})
        try:
            data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BadInput(f"{path} is not valid YAML: {exc}") from exc
        return cls(
            default={k: str(v or "") for k, v in (data.get("default") or {}).items()},
            partnerships={
                str(p): {k: str(v or "") for k, v in (b or {}).items()}
                for p, b in (data.get("partnerships") or {}).items()
            },
        )

    def text(self, partnership: str = "") -> str:
        block = {**self.default, **self.partnerships.get(partnership, {})}
        lines = ["**If this is about a child you are worried about now:**"]
        if block.get("immediate_danger"):
            lines.append(f"- {block['immediate_danger']}")
        for key, phone in (("front_door", "front_door_phone"), ("out_of_hours", "out_of_hours_phone")):
            if block.get(key):
                lines.append(f"- {block[key]}" + (f" ({block[phone]})" if block.get(phone) else ""))
        if block.get("escalation"):
            lines.append(f"- {block['escalation']}")
        lines.append("This assistant does not replace your professional judgement or your safeguarding procedures.")
        return "\n".join(lines)


# ---- the service ------------------------------------------------------------------------------------------------
class Safeguarding:
    def __init__(self, retriever: Retriever, *, themes_path: Path, signposting_path: Path) -> None:
        self.retriever = retriever
        self.themes: list[Theme] = load_themes(themes_path)
        self.signposting = Signposting.load(signposting_path)
        self._version = ""
        self._reviews: list[Review] = []
        self._chunks: dict[str, Chunk] = {}
        self._partnership_of: dict[str, str] = {}

    def reviews(self) -> list[Review]:
        version = self.retriever.version
        if version != self._version:
            chunks = self.retriever.chunks
            self._reviews = build_index(chunks, self.themes)
            self._chunks = {c.chunk_id: c for c in chunks}
            self._partnership_of = {c.doc_id: c.partnership for c in chunks}
            self._version = version
        return self._reviews

    def chunk(self, chunk_id: str) -> Chunk:
        """A chunk the review index points at (reviews() must have been called)."""
        return self._chunks[chunk_id]

    def theme_label(self, theme_id: str) -> str:
        return next((t.label for t in self.themes if t.id == theme_id), theme_id)

    def answer(self, query: Query | str, doc_ids: frozenset[str] | None = None) -> Composition | None:
        """An answer from the review index when the question is about reviews, else None. With `doc_ids` (the
        documents of the partnerships the question names) only their reviews count, themes included."""
        if isinstance(query, str):
            query = QueryParser().parse(query)
        question = query.standalone
        reviews = self.reviews()
        if doc_ids is not None:
            partnerships = {self._partnership_of.get(d, "") for d in doc_ids} - {""}
            reviews = [r for r in reviews if r.doc_id in doc_ids or r.partnership in partnerships]
        if not reviews:
            return None
        if query.reviews:
            return self._review(query, set(query.reviews), reviews)
        if _THEMES_Q.search(question) and (_REVIEWS_WORD.search(question) or "learning" in question.lower()):
            return self._themes(question, reviews)
        return None

    def _review(self, query: Query, named: set[str], reviews: list[Review]) -> Composition | None:
        if not _LEARNING_Q.search(query.standalone):
            return None
        matches = [r for r in reviews if r.name.lower() in named]
        others: list[Review] = []
        home = [r for r in matches if self.retriever.is_home_partnership(r.partnership)]
        if not query.places and len(home) == 1 and len(matches) > 1:
            # This deployment's own review answers; the others are named so the user can ask for them.
            others = [r for r in matches if r is not home[0]]
            matches = home
        if len({r.partnership for r in matches}) > 1:
            citer = Citer()
            lines = [f"More than one review is called {matches[0].name}. Which one do you mean?"]
            for r in matches:
                chunk = self._chunks[r.chunk_id]
                lines.append(f"- {label(r)} {citer.cite(chunk, chunk.start, chunk.start + len(r.summary))}")
            return Composition(answer="\n".join(lines), abstained=False, citations=citer.citations, kind="clarify")
        with_learning = [r for r in matches if r.learning]
        if not with_learning:
            return None
        review = with_learning[0]
        citer = Citer()
        lines = [f"Key learning from {label(review)}:"]
        for point in review.learning:
            lines.append(f"- {point.text} {citer.cite(self._chunks[point.chunk_id], point.start, point.end)}")
        if others:
            names = "; ".join(label(r) for r in others)
            lines.append(
                f"Other partnerships also have a review called {review.name} ({names}): "
                "name the partnership to see theirs."
            )
        return Composition(answer="\n".join(lines), abstained=False, citations=citer.citations, kind="review")

    def _themes(self, question: str, reviews: list[Review]) -> Composition | None:
        q_terms = terms(question, keep_stopwords=True)
        asked = [t for t in self.themes if t.matches(q_terms)]
        kinds = {k for k, p in _KIND_WORDS.items() if p.search(question)}
        tagged = [r for r in reviews if r.themes and (not kinds or r.review_type in kinds)]
        if not tagged:
            return None
        citer = Citer()
        if asked:
            lines: list[str] = []
            for theme in asked:
                hits = [(r, p) for r in tagged for p in r.learning if theme.id in p.themes]
                if not hits:
                    continue
                lines.append(
                    f"{theme.label}: {len({r.id for r, _ in hits})} of {len(tagged)} reviews with recorded learning."
                )
                for r, p in hits:
                    lines.append(f"- {label(r)}: {p.text} {citer.cite(self._chunks[p.chunk_id], p.start, p.end)}")
            if not lines:
                return None
            return Composition(answer="\n".join(lines), abstained=False, citations=citer.citations, kind="theme")
        counts = theme_counts(tagged)
        lines = [f"Themes across the {len(tagged)} reviews with recorded learning, most frequent first:"]
        singles: list[str] = []
        for theme_id, n in counts.most_common():
            names = []
            for r in tagged:
                point = next((p for p in r.learning if theme_id in p.themes), None)
                if point is not None:
                    names.append(f"{r.name} {citer.cite(self._chunks[point.chunk_id], point.start, point.end)}")
            if n >= 2:
                lines.append(f"- {self.theme_label(theme_id)} ({n} reviews): " + "; ".join(names))
            else:  # every tagged review is listed, the one-off themes on one line
                singles.append(f"{self.theme_label(theme_id)} ({names[0]})")
        if singles:
            lines.append("- In one review each: " + "; ".join(singles))
        return Composition(answer="\n".join(lines), abstained=False, citations=citer.citations, kind="themes")
