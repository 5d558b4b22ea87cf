"""The fitted answer engine on hand-made passages: evidence units, question kinds, features, the scorer's fit and
threshold, shaping (lists, glossary expansions), abstention, and the eval's labels, folds and merged folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from assistant.answer.engine import Composer
from assistant.answer.features import FEATURES
from assistant.answer.model import VETOES, AnswerModel, Dataset, choose_threshold, fit
from assistant.answer.question import asks, offers
from assistant.answer.units import list_around, split_units
from core.embeddings import HashingEmbedder
from core.glossary import Glossary
from core.types import Chunk, SearchHit
from evals.answer_data import label, overlaps_quote
from evals.crossval import folds_of
from evals.kb import merge_folders

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = Glossary.load(ROOT / "knowledge" / "glossary.yaml")


def _hit(text: str, rank: int = 1, *, doc: str = "d.txt", kind: str = "text", dense: float = 0.6) -> SearchHit:
    chunk = Chunk(
        chunk_id=f"c{rank}{doc}",
        doc_id=doc,
        ordinal=rank,
        text=text,
        start=100,
        end=100 + len(text),
        section="5 Learning",
        kind=kind,
        context="Testshire Annual Report | 5 Learning",
        doc_hash="h",
        title="Testshire Annual Report",
        doc_type="annual_report",
        partnership="Testshire Safeguarding Children Partnership",
        year=2022,
    )
    return SearchHit(chunk=chunk, score=1.0 / rank, rank=rank, dense=dense)


def _model(**weights: float) -> AnswerModel:
    w = np.zeros(len(FEATURES))
    for name, v in weights.items():
        w[FEATURES.index(name)] = v
    return AnswerModel(w, -1.0, np.zeros(len(FEATURES)), np.ones(len(FEATURES)), 0.5)


def _composer(model: AnswerModel) -> Composer:
    embedder = HashingEmbedder()
    return Composer(
        lambda t: 1.0,
        alternatives=GLOSSARY.alternatives,
        embed=embedder.embed_documents,
        glossary=GLOSSARY,
        model=model,
    )


def test_units_keep_absolute_offsets_and_find_their_list() -> None:
    hit = _hit("The priorities are:\n· Education\nLead: Head of Schools\n· Exploitation\nAnother paragraph here.")
    units = split_units(hit)
    for u in units:
        assert hit.chunk.text[u.start - hit.chunk.start : u.end - hit.chunk.start] == u.text
    found = list_around(units, 3)  # from the second item, the whole list with its lead-in
    assert [u.body for u in found] == ["The priorities are:", "Education", "Exploitation"]
    assert list_around(units, len(units) - 1) == []


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many children were on a plan?", "count"),
        ("Who chairs the board?", "who"),
        ("When did the review finish?", "when"),
        ("What are the partnership's priorities?", "list"),
        ("What does LCSPR stand for?", "definition"),
    ],
)
def test_question_kinds(question: str, kind: str) -> None:
    a = asks(question)
    assert getattr(a, kind)
    assert sum(a.kinds) <= 2


def test_unit_forms_tell_a_count_from_a_year() -> None:
    assert offers("There were 536 children on a plan.").number
    assert not offers("The report for 2021 was agreed.").number and offers("The report for 2021 was agreed.").date
    assert offers("The report was presented by Jane Smith, the chair.").proper


def test_fit_learns_the_signal_and_a_threshold_between_the_classes() -> None:
    rng = np.random.default_rng(0)
    n_q, per = 60, 6
    x = rng.normal(size=(n_q * per, len(FEATURES)))
    x[:, [FEATURES.index(f) for f in VETOES]] = 0.0  # flags that rule a unit out; none here
    y = np.zeros(n_q * per, dtype=int)
    group = np.repeat(np.arange(n_q), per)
    answerable = {g: g % 4 != 0 for g in range(n_q)}
    for g in range(n_q):
        if answerable[g]:
            y[g * per] = 1
            x[g * per, FEATURES.index("coverage")] += 4.0
    model = fit(Dataset(x, y, group, answerable))
    assert model.weights[FEATURES.index("coverage")] > 1.0
    best = {g: float(model.proba(x[group == g]).max()) for g in range(n_q)}
    answered = np.mean([best[g] >= model.threshold for g in range(n_q) if answerable[g]])
    abstained = np.mean([best[g] < model.threshold for g in range(n_q) if not answerable[g]])
    assert answered >= 0.8 and abstained >= 0.8
    assert AnswerModel.from_json(model.to_json()).threshold == pytest.approx(model.threshold, abs=1e-4)


def test_threshold_separates_answerable_from_unanswerable() -> None:
    t = choose_threshold({0: 0.9, 1: 0.8, 2: 0.3, 3: 0.2}, {0: True, 1: True, 2: False, 3: False})
    assert 0.3 < t <= 0.8


def test_low_probability_abstains_with_signposting() -> None:
    a = _composer(_model(coverage=0.1)).compose("What is the drone policy?", [_hit("The Board meets four times.")])
    assert a.abstained and a.citations == [] and "999" in a.answer


def test_best_unit_answers_first_with_its_citation() -> None:
    hit = _hit("The Board meets four times a year. In 2021/22 the partnership held 9 rapid reviews.")
    a = _composer(_model(coverage=6.0)).compose("How many rapid reviews did the partnership hold?", [hit])
    assert not a.abstained
    assert a.answer.splitlines()[0] == "In 2021/22 the partnership held 9 rapid reviews. [1]"
    c = a.citations[0]
    assert hit.chunk.text[c.start - hit.chunk.start : c.end - hit.chunk.start] == c.quote


def test_list_question_gets_the_whole_list() -> None:
    hit = _hit(
        "Intro text here.\nThe agreed priorities are:\n· Safeguarding in Education\n· Child Exploitation\n· Under 5s"
    )
    a = _composer(_model(coverage=6.0, list_and_intro=3.0)).compose("What are the agreed priorities?", [hit])
    assert a.kind == "list"
    assert [ln for ln in a.answer.splitlines() if ln.startswith("- ")] == [
        "- Safeguarding in Education [1]",
        "- Child Exploitation [1]",
        "- Under 5s [1]",
    ]


def test_definition_cites_the_glossary() -> None:
    a = _composer(_model(definition_and_glossary=8.0)).compose(
        "What does LCSPR stand for?", [_hit("An LCSPR was started in the year.")]
    )
    assert not a.abstained
    assert "Local Child Safeguarding Practice Review" in a.answer
    assert a.citations[0].document_id == "glossary.yaml"


def test_an_elided_best_line_abstains_and_names_the_source() -> None:
    hit = _hit("· Child exploitation in work – a question ... view the full minutes text for item 17")
    a = _composer(_model(coverage=6.0)).compose("What did the committee say about child exploitation in work?", [hit])
    assert a.abstained and "Testshire Annual Report" in a.answer


def test_labels_need_overlap_with_a_gold_quote_of_the_same_document() -> None:
    units = split_units(_hit("There were 12 live births to mothers under 18. The Board met.", doc="sub/a.txt"))
    item = {
        "type": "fact",
        "gold_quotes": ["There were 12 live births to mothers under 18."],
        "gold_quote_sources": ["a.txt"],
    }
    assert [label(u, item) for u in units] == [1, 0]
    assert [label(u, {**item, "gold_quote_sources": ["b.txt"]}) for u in units] == [0, 0]
    assert overlaps_quote(
        "the partnership held 9 rapid reviews in the year",
        "In 2021/22 the partnership held 9 rapid reviews in the year, up from 5.",
    )


def test_folds_are_stable_and_balanced() -> None:
    items = [{"id": f"q{i}"} for i in range(23)]
    f = folds_of(items, 5)
    assert f == folds_of(list(items), 5)
    assert sorted(np.bincount(f).tolist()) == [4, 4, 5, 5, 5]
    assert folds_of(items[::-1], 5) == f[::-1]


def test_merged_folder_keeps_every_manifest_entry(tmp_path: Path) -> None:
    seeds, more = tmp_path / "seeds", tmp_path / "more"
    seeds.mkdir()
    more.mkdir()
    (seeds / "a.txt").write_text("A")
    (seeds / "manifest.yaml").write_text(
        yaml.safe_dump({"home_partnership": "H", "documents": {"a.txt": {"title": "A"}}})
    )
    (more / "b.txt").write_text("B")
    (more / "manifest.yaml").write_text(yaml.safe_dump({"documents": {"b.txt": {"title": "B"}}}))
    out = merge_folders(seeds, [more], tmp_path / "out")
    manifest = yaml.safe_load((out / "manifest.yaml").read_text())
    assert manifest["home_partnership"] == "H"
    assert manifest["documents"] == {"a.txt": {"title": "A"}, "more/b.txt": {"title": "B"}}
    assert (out / "more" / "b.txt").read_text() == "B" and not (out / "more" / "manifest.yaml").exists()


@pytest.mark.parametrize("named", [True, False])
def test_two_embedders_of_different_dimensions_in_one_process_keep_their_own_sentence_vectors(named: bool) -> None:
    """The sentence-vector cache is shared by every composer in the process: a second embedder (another model,
    another dimension) scoring the same passages must get its own vectors, not the first one's."""
    hits = [_hit("The Partnership Board meets four times a year to review its priorities.")]
    for dim, question in ((64, "How often does the board meet?"), (48, "When does the Partnership Board meet?")):
        embedder = HashingEmbedder(dim=dim)
        composer = Composer(
            lambda t: 1.0,
            embed=embedder.embed_documents,
            embedder_id=embedder.model_id if named else None,
            model=_model(dense_unit=1.0),
        )
        candidates = composer.candidates(question, hits)  # a new question beside a passage seen before
        assert len(candidates.units) >= 1
        assert np.all(np.isfinite(candidates.x))


def test_the_sentence_cache_when_full_still_returns_the_vectors_it_held_before() -> None:
    """Past its limit the cache starts again; texts of this call that were kept before must still come back."""
    from assistant.vector_memo import VectorCache

    embedder = HashingEmbedder(dim=32)
    cache = VectorCache(limit=3)
    first = cache.get("h", embedder.embed_documents, ["alpha board", "beta panel"])
    both = cache.get("h", embedder.embed_documents, ["alpha board", "gamma audit", "delta plan"])  # passes the limit
    assert np.allclose(both[0], first[0]) and both.shape == (3, 32)
    assert np.allclose(both[1:], embedder.embed_documents(["gamma audit", "delta plan"]))
