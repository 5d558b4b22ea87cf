"""What a general document assistant misses: answers from the review index (one review, or the themes across all
of them), a "which one?" answer for ambiguous review names, and the urgent-concern safety path (the detector is
assistant.urgency, the fixed steps assistant.signposting).

Every line it writes is quoted from, and cited to, a stored passage,
except the fixed signposting configured in knowledge/signposting.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant.citing import Citer
from assistant.compose import Composition
from assistant.query import Query, QueryParser
from assistant.retrieval import Retriever
from assistant.reviews import Review, Theme, build_index, label, load_themes, theme_counts
from assistant.signposting import Signposting
from assistant.urgency import is_urgent
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

    def is_urgent(self, question: str) -> bool:
        """assistant.urgency.is_urgent() with the embedder the retriever already holds (one model in memory)."""
        return is_urgent(question, self.retriever.embedder)

    def reviews(self) -> list[Review]:
        version = self.retriever.state
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
