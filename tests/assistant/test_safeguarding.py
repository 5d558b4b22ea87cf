"""Safeguarding-aware answers: the review index, themes across reviews, ambiguous review names, the
urgent-concern path and 7-minute briefings."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from assistant.service import build_service
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.store import open_store
from ingest.pipeline import ingest_corpus
from tests.servers import api_server, run_cli

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "two_partnerships"


@pytest.fixture
def service(tmp_path: Path):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    for name in ("glossary.yaml", "themes.yaml", "signposting.yaml"):
        shutil.copy(ROOT / "knowledge" / name, knowledge / name)
    settings = Settings(  # abstain_threshold 0: these tests are about which document answers, not whether to
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        abstain_threshold=0.0,
        _env_file=None,
    )
    embedder = HashingEmbedder()
    report = ingest_corpus(
        settings, embedder=embedder, store=open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    )
    assert report.ok
    return build_service(settings, embedder=embedder)


def test_review_index_finds_each_review_with_type_and_learning(service) -> None:
    reviews = {(r.name, r.partnership.split()[0]): r for r in service.safeguarding.reviews()}
    assert set(reviews) == {
        ("Child A", "Northshire"),
        ("Child B", "Northshire"),
        ("Child A", "Southvale"),
        ("Child C", "Southvale"),
    }
    north_a = reviews[("Child A", "Northshire")]
    assert north_a.review_type == "LCSPR" and reviews[("Child A", "Southvale")].review_type == "rapid review"
    assert [p.text for p in north_a.learning] == [
        "Information sharing between schools and health visitors",
        "Working with fathers and male carers",
        "Professional curiosity about bruising in babies",
    ]
    assert {"information_sharing", "fathers", "infant_injury"} <= set(north_a.themes)


def test_ambiguous_review_name_asks_which_one(service) -> None:
    answer = service.ask("What did the Child A review teach?")
    assert answer.kind == "clarify" and not answer.abstained
    assert "Which one do you mean?" in answer.answer
    assert "Northshire" in answer.answer and "Southvale" in answer.answer
    assert len(answer.citations) == 2


def test_naming_the_partnership_resolves_the_ambiguity(service) -> None:
    answer = service.ask("What did the Child A review in Southvale teach?")
    assert answer.kind == "review"
    assert "Domestic abuse and the risk from adults in the wider network" in answer.answer
    assert "fathers" not in answer.answer


def test_themes_cover_every_tagged_review(service) -> None:
    answer = service.ask("What keeps coming up in our reviews?")
    assert answer.kind == "themes"
    assert "Information sharing (2 reviews)" in answer.answer
    tagged = [r for r in service.safeguarding.reviews() if r.themes]
    listed = {c.chunk_id for c in answer.citations}
    assert {r.chunk_id for r in tagged} <= listed  # coverage = reviews listed / reviews tagged = 1


def test_theme_question_lists_each_review_with_a_cited_line(service) -> None:
    answer = service.ask("What have reviews said about fathers?")
    assert answer.kind == "theme"
    assert "Working with fathers and male carers [1]" in answer.answer
    cited = answer.citations[0]
    doc = service.document(cited.document_id)[1]
    assert doc[cited.start : cited.end] == "Working with fathers and male carers"


def test_urgent_question_gets_signposting_first_then_the_documents(service) -> None:
    answer = service.ask("I'm worried about a baby with a bruise on her face right now")
    assert answer.urgent
    assert answer.answer.startswith("**If this is about a child you are worried about now:**")
    assert "999" in answer.answer.split("\n\n")[0]
    assert "What the knowledge base says" in answer.answer
    assert not service.ask("What did the Child B review teach?").urgent


def test_review_theme_and_briefing_routes(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    for name in ("glossary.yaml", "themes.yaml", "signposting.yaml"):
        shutil.copy(ROOT / "knowledge" / name, knowledge / name)
    env = {
        "PKA_KNOWLEDGE_DIR": str(knowledge),
        "PKA_DATA_DIR": str(tmp_path / "data"),
        "PKA_EMBEDDING_BACKEND": "hashing",
    }
    assert run_cli(["ingest"], env).returncode == 0
    with api_server(env) as url:
        reviews = httpx.get(f"{url}/reviews").json()["reviews"]
        assert len(reviews) == 4 and {r["review_type"] for r in reviews} == {"LCSPR", "rapid review"}
        themes = httpx.get(f"{url}/themes").json()
        assert themes["reviews_with_learning"] == 4
        north_a = next(r["id"] for r in reviews if r["name"] == "Child A" and "Northshire" in r["partnership"])
        body = httpx.post(f"{url}/briefing", json={"review": north_a}).json()
        for heading in (
            "## Background",
            "## What happened",
            "## Key learning",
            "## What it means for practice",
            "## Three reflective questions",
            "## Where to find more",
        ):
            assert heading in body["markdown"]
        assert "Working with fathers and male carers [1]" in body["markdown"]
        ambiguous = httpx.post(f"{url}/briefing", json={"review": "Child A"})
        assert ambiguous.status_code == 400 and "More than one review" in ambiguous.json()["message"]
        md = httpx.post(f"{url}/briefing", json={"theme": "fathers", "format": "markdown"})
        assert md.headers["content-type"].startswith("text/markdown") and "## Sources" in md.text
        pdf = httpx.post(f"{url}/briefing", json={"theme": "information_sharing", "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
        assert httpx.post(f"{url}/briefing", json={"review": "Child Q"}).status_code == 404
        assert httpx.post(f"{url}/briefing", json={"review": "Child A", "theme": "x"}).status_code == 422


def test_extractive_answers_quote_their_sources_verbatim(service) -> None:
    """Wording fidelity: every answer line, minus its marker and bullet, is a passage of the cited source."""
    for question in ("What did the Child C review teach?", "What have reviews said about escalation?"):
        answer = service.ask(question)
        for c in answer.citations:
            doc = service.document(c.document_id)[1]
            for part in c.quote.split(" … "):
                assert part in doc


def test_answers_from_old_documents_say_so(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(ROOT / "knowledge" / "glossary.yaml", knowledge / "glossary.yaml")
    (knowledge / "old.md").write_text(
        "# Minutes 2009\n\nThe LSCB agreed that Serious Case Reviews would be published.\n"
    )
    (knowledge / "manifest.yaml").write_text("documents:\n  old.md: {title: Board minutes 2009, date: '2009'}\n")
    settings = Settings(  # abstain_threshold 0: these tests are about which document answers, not whether to
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        abstain_threshold=0.0,
        _env_file=None,
    )
    embedder = HashingEmbedder()
    ingest_corpus(
        settings, embedder=embedder, store=open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    )
    service = build_service(settings, embedder=embedder)
    answer = service.ask("What did the LSCB agree about Serious Case Reviews?")
    assert not answer.abstained
    # The note on the document's age comes only when it matters (here: when the question asks what is current);
    # the replaced terms are always named.
    assert "check it is still current" not in answer.answer
    assert "“LSCB” (Local Safeguarding Children Board) has been replaced by" in answer.answer
    assert "“SCR” (Serious Case Review) has been replaced by" in answer.answer
    current = service.ask("Is what the LSCB agreed about Serious Case Reviews still current?")
    assert "from a document of 2009; check it is still current" in current.answer


def test_home_partnership_answers_an_ambiguous_name_and_names_the_others(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    settings = Settings(
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        home_partnership="Northshire Safeguarding Children Partnership",
        _env_file=None,
    )
    embedder = HashingEmbedder()
    ingest_corpus(
        settings, embedder=embedder, store=open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    )
    answer = build_service(settings, embedder=embedder).ask("What did the Child A review teach?")
    assert answer.kind == "review" and "Working with fathers and male carers" in answer.answer
    assert "Other partnerships also have a review called Child A (Child A (rapid review, Southvale" in answer.answer


def _escalation_kb(tmp_path: Path, *, supersedes: bool):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "old.md").write_text(
        "# Escalation procedure 2019\n\nHow many working days before you escalate a disagreement to your manager? "
        "Escalate a disagreement to your manager within 10 working days.\n"
    )
    (knowledge / "new.md").write_text(
        "# Escalation procedure 2023\n\nEscalate disagreements to a manager within 5 days.\n"
    )
    extra = ", supersedes: [old.md]" if supersedes else ""
    (knowledge / "manifest.yaml").write_text(
        "documents:\n  old.md: {title: Escalation procedure 2019, date: '2019', doc_type: procedure}\n"
        f"  new.md: {{title: Escalation procedure 2023, date: '2023', doc_type: procedure{extra}}}\n"
    )
    settings = Settings(  # abstain_threshold 0: these tests are about which document answers, not whether to
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        abstain_threshold=0.0,
        _env_file=None,
    )
    embedder = HashingEmbedder()
    ingest_corpus(
        settings, embedder=embedder, store=open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    )
    return build_service(settings, embedder=embedder)


@pytest.mark.parametrize("supersedes", [False, True])
def test_a_superseding_document_answers_first(tmp_path: Path, supersedes: bool) -> None:
    service = _escalation_kb(tmp_path, supersedes=supersedes)
    question = "How many working days before I escalate a disagreement to my manager?"
    hits = service.search(question, top_k=2)
    answer = service.ask(question)
    if supersedes:  # the replacing procedure answers first, the old one is still there behind it
        assert [h.chunk.doc_id for h in hits] == ["new.md", "old.md"]
        assert "within 5 days" in answer.answer and "10 working days" not in answer.answer
    else:  # without the manifest saying so, the closer wording wins
        assert hits[0].chunk.doc_id == "old.md"
