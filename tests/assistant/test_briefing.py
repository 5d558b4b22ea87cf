"""7-minute briefings (assistant/briefing.py): the review's own summary sentences, what the document asks of each
agency, an action-plan table, and sources by title and link, as Markdown and as PDF."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
import yaml

from assistant.briefing import review_briefing, theme_briefing, to_pdf
from assistant.service import build_service
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.store import open_store
from ingest.pipeline import ingest_corpus

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures"
CHILD_Q_URL = "https://example.org/testshire/child-q-briefing"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    """The Child Q learning briefing (one review, with background and practice sentences) beside Northshire's
    annual report (two reviews, headings and learning lists only)."""
    tmp = tmp_path_factory.mktemp("briefing")
    knowledge = tmp / "knowledge"
    knowledge.mkdir()
    shutil.copy(FIXTURES / "knowledge" / "briefing.md", knowledge / "briefing.md")
    shutil.copy(FIXTURES / "two_partnerships" / "north.md", knowledge / "north.md")
    for name in ("glossary.yaml", "themes.yaml", "signposting.yaml"):
        shutil.copy(ROOT / "knowledge" / name, knowledge / name)
    docs = {
        "briefing.md": {
            **yaml.safe_load((FIXTURES / "knowledge" / "manifest.yaml").read_text())["documents"]["briefing.md"],
            "source_url": CHILD_Q_URL,
        },
        "north.md": yaml.safe_load((FIXTURES / "two_partnerships" / "manifest.yaml").read_text())["documents"][
            "north.md"
        ],
    }
    (knowledge / "manifest.yaml").write_text(yaml.safe_dump({"documents": docs}))
    settings = Settings(knowledge_dir=knowledge, data_dir=tmp / "data", embedding_backend="hashing", _env_file=None)
    embedder = HashingEmbedder()
    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    assert ingest_corpus(settings, embedder=embedder, store=store).ok
    return build_service(settings, embedder=embedder)


def _section(markdown: str, heading: str) -> str:
    return markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _quoted(service, citations, marker: str) -> str:
    n = int(marker.strip("[]"))
    c = next(c for c in citations if c.n == n)
    doc = service.document(c.document_id)[1]
    for part in c.quote.split(" … "):
        assert part in doc  # verbatim from the document
    return c.quote


def test_what_happened_is_the_reviews_own_summary_cited(service) -> None:
    md, citations = review_briefing(service.safeguarding, "Child Q")
    happened = _section(md, "What happened")
    line = next(ln for ln in happened.splitlines() if "nine-month-old baby" in ln)
    assert line.startswith("- Child Q was a nine-month-old baby who was taken to hospital")
    marker = re.search(r"\[\d+\]$", line).group(0)
    assert "spiral fracture" in _quoted(service, citations, marker)
    assert "The family were known to Early Help." in happened
    assert "Child Q Rapid Review [" not in happened  # not the heading line
    assert "must" not in happened  # the practice sentences have their own section


def test_what_it_means_quotes_what_each_agency_is_asked(service) -> None:
    md, citations = review_briefing(service.safeguarding, "Child Q")
    practice = _section(md, "What it means for practice")
    assert "**Practitioners** must follow the bruising protocol." in practice
    assert "**The Designated Safeguarding Lead** should be told the same day." in practice
    assert "check your practice against" not in practice  # no boilerplate
    for marker in re.findall(r"\[\d+\]", practice):
        _quoted(service, citations, marker)
    # learning points are not repeated as asks
    assert "Bruising in a non-mobile baby" not in practice


def test_action_plan_table_and_sources_by_title_and_link(service) -> None:
    md, _ = review_briefing(service.safeguarding, "Child Q")
    plan = _section(md, "Action plan")
    rows = [ln for ln in plan.splitlines() if ln.startswith("|")]
    assert rows[0] == "| Action | Who | By when |"
    learning = [p.text for r in service.safeguarding.reviews() if r.name == "Child Q" for p in r.learning]
    assert len(learning) == 3
    for point in learning:
        assert f"| Respond to: {point} |  |  |" in rows
    assert rows[-1] == "|  |  |  |"  # room for the team's own actions
    more = _section(md, "Where to find more")
    assert f"- [Child Q Rapid Review learning briefing]({CHILD_Q_URL})" in more
    assert "briefing.md" not in md  # no internal file names


def test_review_without_a_summary_says_so_and_shows_no_file_name(service) -> None:
    md, _ = review_briefing(service.safeguarding, "Child A")
    assert "do not summarise what happened" in _section(md, "What happened")
    assert "does not say what this learning asks of each agency" in _section(md, "What it means for practice")
    more = _section(md, "Where to find more")
    assert "Northshire Safeguarding Children Partnership Annual Report 2022/23 (no link is recorded for it)" in more
    assert "north.md" not in md
    assert "Working with fathers and male carers [" in _section(md, "Key learning")


def test_theme_briefing_uses_summaries_and_asks(service) -> None:
    md, citations = theme_briefing(service.safeguarding, "infant_injury")
    happened = _section(md, "What happened")
    assert "Child Q was a nine-month-old baby" in happened
    assert "do not summarise what happened" in happened  # Northshire's Child A has learning on bruising only
    assert "**Practitioners** must follow the bruising protocol." in _section(md, "What it means for practice")
    assert "| Action | Who | By when |" in _section(md, "Action plan")
    assert f"]({CHILD_Q_URL})" in _section(md, "Where to find more")
    assert citations


def test_pdf_has_the_action_plan_table_and_the_link(service) -> None:
    from pypdf import PdfReader

    md, citations = review_briefing(service.safeguarding, "Child Q")
    pdf = to_pdf(md, citations)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Action plan" in text and "By when" in text and "Respond to:" in text
    assert "**" not in text  # bold is rendered, not shown as markdown
    uris = [
        a.get_object()["/A"]["/URI"]
        for page in reader.pages
        for a in page.get("/Annots") or []
        if "/A" in a.get_object() and "/URI" in a.get_object()["/A"]
    ]
    assert CHILD_Q_URL in uris


def test_pdf_without_reportlab_is_a_clear_error(service, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from assistant.briefing import PdfUnavailable

    md, citations = review_briefing(service.safeguarding, "Child Q")
    for name in [m for m in sys.modules if m == "reportlab" or m.startswith("reportlab.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "reportlab", None)  # import reportlab now raises ImportError
    with pytest.raises(PdfUnavailable, match="reportlab") as err:
        to_pdf(md, citations)
    assert err.value.http_status == 501


def test_reportlab_is_a_runtime_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert any(d.startswith("reportlab") for d in project["dependencies"])


def test_only_sentences_that_name_who_they_ask_are_listed() -> None:
    from assistant.briefing import _who

    assert _who("Practitioners must follow the bruising protocol.") == "Practitioners"
    assert _who("The GP should share the discharge letter.") == "The GP"
    # background or reported speech asks no one in particular
    assert _who("When a child dies, the LSCB should always conduct a review.") == ""
    assert _who("The chair agreed that a review should be convened.") == ""
    assert _who("Nothing is asked here.") == ""
