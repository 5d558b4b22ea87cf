"""Scoping with many partnerships in one store: places and partnerships as data, a question parsed once into a
typed Query, answers from the named partnership's documents only, plain abstentions for places, years and reviews
the knowledge base holds nothing of, whose document each line quotes, and currency notes only when they matter."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.query import QueryParser, kinds, question_kind
from assistant.scope import doc_info
from assistant.service import build_service
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.places import Gazetteer
from core.store import DocumentRecord, open_store
from core.types import DocumentMeta
from ingest.pipeline import ingest_corpus

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "many_partnerships"
# ../shared beside the checkout (or beside the folder of worktrees that holds it)
PARTNERSHIPS = (
    next(
        (p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if (p / "corpora").exists()),
        ROOT.parent / "shared",
    )
    / "corpora"
    / "partnerships"
)


def _service(tmp_path: Path, *extra: Path, places: Path | None = None, **settings: object):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    for name in ("glossary.yaml", "themes.yaml"):
        shutil.copy(ROOT / "knowledge" / name, knowledge / name)
    s = Settings(
        knowledge_dir=knowledge,
        data_dir=tmp_path / "data",
        embedding_backend="hashing",
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings init kwarg
        **settings,  # type: ignore[arg-type]
    )
    embedder = HashingEmbedder()
    assert ingest_corpus(s, embedder=embedder, store=open_store(s, embedder_id=embedder.model_id, dim=embedder.dim)).ok
    return build_service(s, embedder=embedder)


@pytest.fixture
def service(tmp_path: Path):
    return _service(tmp_path)


# ---- places as data -----------------------------------------------------------------------------------------------
def test_gazetteer_finds_the_longest_name_with_aliases_and_containment() -> None:
    g = Gazetteer.load(FIXTURE / "places.yaml")
    assert g.find("What does the Pan-Vale procedure say?") == {"Greater Vale"}
    assert g.find("N'shire and Southvale figures") == {"Northshire", "Southvale"}
    assert g.ancestors("Westmere") == {"Westmere", "Greater Vale", "Testland"}
    assert g.find("the Greater Vale board") == {"Greater Vale"}  # not also a place called "Vale"


def test_one_word_places_count_only_as_written_unless_the_message_is_in_lower_case() -> None:
    g = Gazetteer.load(ROOT / "knowledge" / "places.yaml")
    assert g.find("Reading the procedure, what should I do?") == {"Reading"}  # capitalised: taken as the place
    assert g.find("What reading does the Bury LSCB suggest?") == {"Bury"}
    assert g.find("who is the lado in st helens") == {"St Helens"}
    assert g.find("East Sussex SPOA") == {"East Sussex"} and g.find("the Pan-Sussex procedures") == {"Sussex"}
    assert g.find("Notts CCE chapter") == {"Nottinghamshire"}


def test_no_place_or_partnership_is_named_in_the_assistant_code() -> None:
    names = ["Sussex", "Surrey", "Rotherham", "Essex", "Kent", "ESSCP", "Brighton", "Northshire", "Southvale"]
    for path in [*ROOT.glob("assistant/**/*.py"), *ROOT.glob("core/*.py")]:
        code = path.read_text()
        assert not [n for n in names if n in code], path


def test_a_documents_year_comes_from_its_manifest_not_its_text() -> None:
    def record(date: str, title: str) -> DocumentRecord:
        meta = DocumentMeta(title=title, date=date, year=2009)  # 2009: what ingest read in the text
        return DocumentRecord("d.md", meta, "text/markdown", "h", "v", "f", "s", 1, 10)

    assert doc_info(record("2023-05", "Escalation procedure")).year == 2023
    assert doc_info(record("", "Annual report 2021/22")).year == 2022
    assert doc_info(record("", "Escalation procedure")).year is None


# ---- the Query -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many children had a child protection plan?", "count"),
        ("Who chairs the board?", "who"),
        ("When did the duty come into force?", "date"),
        ("What does LCSPR stand for?", "definition"),
        ("What should I do if I disagree with a colleague?", "procedure"),
        ("What are the partnership's priorities?", "list"),
        ("Tell me about the front door.", "fact"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert question_kind(question) == kind


def test_query_carries_places_years_reviews_and_the_standalone_text(service) -> None:
    q = service.parse("and Southvale?", history=["What did the Child A review in Northshire teach?"])
    assert q.standalone == "What did the Child A review in Southvale teach?"
    assert q.places == {"Southvale"} and q.reviews == {"child a"}
    q = service.parse("How many contacts did the NSCP MASH get in 2022/23?")
    assert q.places == {"Northshire Safeguarding Children Partnership (NSCP)"} and q.years == {2022, 2023}
    assert q.kind == "count" and not q.urgent


def test_the_question_is_parsed_once_per_ask(service, monkeypatch) -> None:
    calls = []
    parse = QueryParser.parse

    def counted(self, question, history=None):  # type: ignore[no-untyped-def]
        calls.append(question)
        return parse(self, question, history)

    monkeypatch.setattr(QueryParser, "parse", counted)
    with TestClient(create_app(service.settings, service=service)) as client:
        for question in ("How many contacts did the Southvale MASH receive?", "What did the Child C review teach?"):
            calls.clear()
            assert client.post("/ask", json={"question": question}).status_code == 200
            assert calls == [question]


def test_what_the_question_asks_is_read_once_and_the_answer_step_reads_it_from_the_query(service, monkeypatch) -> None:
    import assistant.answer.engine as engine
    import assistant.query.parse as parse_module

    calls: list[str] = []
    real = kinds.asks

    def counted(text: str) -> kinds.Asks:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(parse_module, "asks", counted)
    monkeypatch.setattr(engine, "asks", counted)
    answer = service.ask("How many contacts did the Southvale MASH receive?")
    assert not answer.abstained and calls == ["How many contacts did the Southvale MASH receive?"]
    q = service.parse("Who chairs the board and how many times did it meet?")
    assert q.kind == "count" and q.asks.count and q.asks.who  # the leading kind and every kind asked, one reading


def _embedding_urgency(service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Give the service's (hashing) embedder an urgency model that reads the message's embedding, as MiniLM's does."""
    from assistant import urgency

    weights = json.loads(urgency.WEIGHTS_PATH.read_text(encoding="utf-8"))
    plain = weights["models"]["structural"]
    dim = service.embedder.dim
    weights["models"]["hashing-256"] = {
        **plain,
        "embedding": True,
        "dim": dim,
        "mean": [0.0] * dim + plain["mean"],
        "scale": [1.0] * dim + plain["scale"],
        "coef": [0.0] * dim + plain["coef"],
    }
    path = tmp_path / "urgency-weights.json"
    path.write_text(json.dumps(weights), encoding="utf-8")
    embedder = service.retriever.embedder
    urgency._detectors[embedder] = urgency.UrgencyDetector(embedder, weights_path=path)
    assert urgency.detector_for(embedder).embedder is embedder


def test_the_message_is_embedded_once_per_ask(tmp_path: Path, monkeypatch) -> None:
    service = _service(tmp_path)
    _embedding_urgency(service, tmp_path)
    embedded: list[str] = []
    inner = service.embedder.inner  # type: ignore[attr-defined]  # the MemoEmbedder build_service wraps it in
    real = inner.embed_documents

    def counted(texts):  # type: ignore[no-untyped-def]
        embedded.extend(texts)
        return real(texts)

    monkeypatch.setattr(inner, "embed_documents", counted)
    searches: list[object] = []
    search = service.retriever.search
    monkeypatch.setattr(service.retriever, "search", lambda *a, **k: searches.append(a) or search(*a, **k))
    question = "What did the Northshire partnership report in 2022/23?"
    assert not service.glossary.expand(question)  # no glossary term: retrieval embeds the message as it is
    answer = service.ask(question)
    assert answer.citations and len(searches) == 1  # urgency, retrieval and the answer scorer all ran
    assert embedded.count(question) == 1, embedded
    # A place the store holds nothing from: one search (for what it holds on the subject), the message embedded once.
    embedded.clear(), searches.clear()
    question = "What did the Eastmarch partnership report in 2022/23?"
    assert service.ask(question).abstained
    assert embedded.count(question) == 1 and len(searches) == 1, embedded


# ---- scoping ---------------------------------------------------------------------------------------------------------
def test_a_question_naming_a_partnership_is_answered_from_its_documents_only(service) -> None:
    for question, doc in (
        ("How many contacts did the Southvale MASH receive in 2022/23?", "south.md"),
        ("How many contacts did the NSCP MASH receive?", "north.md"),
        ("How many contacts did the Northshire partnership's MASH receive?", "north.md"),
    ):
        answer = service.ask(question)
        assert not answer.abstained, question
        assert {c.document_id for c in answer.citations} == {doc}, question
    hits = service.search("How many contacts did the Southvale MASH receive?", top_k=10)
    assert {h.chunk.doc_id for h in hits} == {"south.md"}


def test_the_home_partnership_is_preferred_only_when_no_place_is_named(service) -> None:
    plain = service.ask("How many contacts did the MASH receive?")
    assert plain.citations and plain.citations[0].document_id == "north.md"
    named = service.ask("How many contacts did the MASH in Greater Vale receive?")
    assert named.citations and {c.document_id for c in named.citations} <= {
        "south.md",
        "westmere-escalation-2018.md",
        "westmere-escalation-2023.md",
    }


def test_every_answer_line_says_whose_document_it_quotes(service) -> None:
    answer = service.ask("How many contacts did the Southvale MASH receive?")
    lines = [line for line in answer.answer.splitlines() if "[" in line]
    assert lines and all("— SVSCP [" in line for line in lines), answer.answer


def test_a_place_with_no_documents_gets_a_plain_abstention_in_the_partnerships_words(service) -> None:
    answer = service.ask("How many contacts did the Eastmarch MASH receive?")
    assert answer.abstained and answer.kind == "not_held"
    assert answer.answer.startswith("We hold no documents from Eastmarch.")  # the fixture's signposting wording
    assert "On this subject it holds documents from" in answer.answer and "NSCP" in answer.answer


def test_a_review_no_document_names_is_not_answered_with_another(service) -> None:
    answer = service.ask("What did the Child Q review teach?")
    assert answer.abstained and "no review called Child Q" in answer.answer
    assert "Child A" in answer.answer  # what it does hold
    answer = service.ask("What did the Child C review in Northshire teach?")
    assert answer.abstained and "no review called Child C from Northshire" in answer.answer


def test_naming_the_partnership_and_the_review_needs_no_which_one(service) -> None:
    answer = service.ask("What did the SVSCP Child A review teach?")
    assert answer.kind == "review" and "Domestic abuse" in answer.answer and "fathers" not in answer.answer
    answer = service.ask("What did the Child A review teach?")  # the home partnership's, and the others named
    assert answer.kind == "review" and "Working with fathers and male carers" in answer.answer
    assert "Other partnerships also have a review called Child A" in answer.answer


def test_themes_of_a_named_partnership_come_from_its_reviews_only(service) -> None:
    answer = service.ask("What have Southvale reviews said about fathers?")
    assert answer.kind == "theme"
    assert "Working with fathers who are not living with the child" in answer.answer
    assert "Working with fathers and male carers" not in answer.answer  # Northshire's
    assert {c.document_id for c in answer.citations} == {"south.md"}


def test_a_year_no_document_is_from_gets_a_plain_abstention(service) -> None:
    answer = service.ask("How many contacts did the Southvale MASH receive in 2015/16?")
    assert answer.abstained and "holds no documents from Southvale from 2015/16" in answer.answer
    assert "2022-2023" in answer.answer


# ---- currency ----------------------------------------------------------------------------------------------------
def test_currency_note_only_when_a_newer_document_exists_or_currency_is_asked(service) -> None:
    answer = service.ask("How many contacts did the Southvale MASH receive?")
    assert "Note:" not in answer.answer
    old = service.ask("Within how many working days should I escalate a disagreement in Westmere?")
    if any(c.document_id == "westmere-escalation-2018.md" for c in old.citations):
        assert "a newer document on this subject" in old.answer
    else:
        assert "Note:" not in old.answer
    assert "2009" not in old.answer.split("Note:")[-1]  # a date in the text is not the document's year


# ---- the API takes the ingest job from its caller ------------------------------------------------------------
def test_the_api_package_imports_no_ingest_code() -> None:
    code = "import sys, assistant.api.app; print(sorted(m for m in sys.modules if m.split('.')[0] == 'ingest'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_without_an_ingest_job_the_admin_routes_answer_503_json(service) -> None:
    with TestClient(create_app(service.settings, service=service)) as client:
        r = client.post("/admin/ingest")
        assert r.status_code == 503 and "ingest" in r.json()["message"]
        assert client.delete("/admin/documents/north.md").status_code == 503
        assert client.get("/documents/north.md").status_code == 200  # nothing was deleted


# ---- the real partnerships corpus, when ../shared holds it ---------------------------------------------------------
@pytest.mark.skipif(not (PARTNERSHIPS / "manifest.yaml").exists(), reason="../shared/corpora/partnerships is absent")
def test_seeds_and_partnerships_corpus_in_one_store(tmp_path: Path) -> None:
    import yaml

    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    manifest = yaml.safe_load((knowledge / "manifest.yaml").read_text())
    theirs = yaml.safe_load((PARTNERSHIPS / "manifest.yaml").read_text())
    for name, entry in theirs["documents"].items():
        shutil.copy(PARTNERSHIPS / name, knowledge / name)
        manifest["documents"][name] = entry
    (knowledge / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    s = Settings(knowledge_dir=knowledge, data_dir=tmp_path / "data", embedding_backend="hashing", _env_file=None)
    embedder = HashingEmbedder()
    assert ingest_corpus(s, embedder=embedder, store=open_store(s, embedder_id=embedder.model_id, dim=embedder.dim)).ok
    service = build_service(s, embedder=embedder)
    kent = service.ask("What notice does Kent require before a planned private fostering arrangement starts?")
    assert kent.abstained and kent.answer.startswith("The knowledge base holds no documents from Kent.")
    for question, doc in (
        ("Redbridge: what's the timescale for getting hold of the LADO after an allegation?", "redbridge"),
        ("Notts CCE chapter - what was added in July 2023?", "nottingham"),
        ("What did Brighton & Hove's LSCB annual report for 2017-18 have to include?", "brighton-hove"),
    ):
        hits = service.search(question, top_k=5)
        assert hits and all(h.chunk.doc_id.startswith(doc) for h in hits), question


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("What happens for a family at Level 2 Early Help?", set()),
        ("How does the protocol define a child as 'missing'?", set()),
        ("What did the Child Z review teach?", {"child z"}),
        ("what did child z teach", {"child z"}),
        ("and Family CC?", {"family cc"}),
        ("is a child a priority", set()),
        ("what do I do if a child I'm seeing is not brought?", set()),
    ],
)
def test_review_names_are_written_with_a_capital_or_a_number(text: str, names: set[str]) -> None:
    from assistant.query import review_names

    assert review_names(text) == names


def test_urgent_signposting_gives_the_home_contacts_only_when_no_other_place_is_named(tmp_path: Path) -> None:
    service = _service(tmp_path)
    block = {"front_door": "Call the Northshire front door."}
    service.safeguarding.signposting.partnerships["Northshire Safeguarding Children Partnership (NSCP)"] = block
    here = service.ask("I'm worried about a baby with a bruise on her face right now")
    assert here.urgent and "Call the Northshire front door." in here.answer
    there = service.ask("I'm worried about a baby in Southvale with a bruise on her face right now")
    assert there.urgent and "Northshire front door" not in there.answer and "999" in there.answer


def test_answer_labels_use_an_abbreviation_only_when_it_names_one_partnership() -> None:
    from assistant.scope import PlaceIndex

    def record(doc_id: str, partnership: str) -> DocumentRecord:
        return DocumentRecord(
            doc_id, DocumentMeta(title=doc_id, partnership=partnership), "text/plain", "", "", "", "", 1, 1
        )

    names = ["Anyshire Board (ASB)", "Otherton Board (ASB)", "Hope Board (LSCB)", "National (Wales)", "Vale (VSCP)"]
    index = PlaceIndex(Gazetteer(), [record(f"{i}.txt", p) for i, p in enumerate(names)], generic={"LSCB"}.__contains__)
    assert [index.label(p) for p in names] == [
        "Anyshire Board",
        "Otherton Board",
        "Hope Board",
        "National (Wales)",
        "VSCP",
    ]


def test_a_partnership_name_that_holds_a_known_place_is_about_that_place(tmp_path: Path) -> None:
    from assistant.retrieval import learn_places, place_match, places, use_gazetteer

    use_gazetteer(Gazetteer.load(FIXTURE / "places.yaml"))
    learn_places({"Southvale Borough Safeguarding Children Partnership", "Testshire Safeguarding Children Partnership"})
    assert places("Southvale Borough Safeguarding Children Partnership") == {"Southvale"}
    assert places("the Testshire partnership") == {"Testshire"}  # a place only a partnership's name gives
    assert place_match({"Greater Vale"}, {"Southvale"}) and not place_match({"Southvale"}, {"Northshire"})


def test_a_follow_up_naming_its_own_place_is_about_that_place(service) -> None:
    q = service.parse(
        "and is the Southvale partnership doing anything on that with schools?", ["What does Westmere do?"]
    )
    assert "Westmere" in q.standalone and q.places == {"Southvale"}
    q = service.parse("and what did it teach?", ["What did the Child C review in Southvale find?"])
    assert q.places == {"Southvale"} and q.reviews == {"child c"}
