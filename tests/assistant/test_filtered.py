"""Answers under filters (assistant/filtered.py): a question naming a review that no filtered passage mentions
says so instead of quoting unrelated lines of the filtered documents."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.service import build_service
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.store import open_store
from core.types import Filters
from ingest.pipeline import ingest_corpus

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "two_partnerships"
NORTH = "Northshire Safeguarding Children Partnership"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("filtered")
    knowledge = tmp / "knowledge"
    shutil.copytree(FIXTURE, knowledge)
    for name in ("glossary.yaml", "themes.yaml", "signposting.yaml"):
        shutil.copy(ROOT / "knowledge" / name, knowledge / name)
    settings = Settings(knowledge_dir=knowledge, data_dir=tmp / "data", embedding_backend="hashing", _env_file=None)
    embedder = HashingEmbedder()
    store = open_store(settings, embedder_id=embedder.model_id, dim=embedder.dim)
    assert ingest_corpus(settings, embedder=embedder, store=store).ok
    return build_service(settings, embedder=embedder)


def test_review_outside_the_filter_is_not_answered_from_other_passages(service) -> None:
    answer = service.ask("What did the Child C review teach?", filters=Filters(partnership=[NORTH]))
    assert answer.abstained and not answer.citations
    assert "Nothing in the documents these filters allow mentions Child C" in answer.answer
    assert "999" in answer.answer


def test_review_inside_the_filter_is_answered(service) -> None:
    answer = service.ask("What did the Child B review teach?", filters=Filters(partnership=[NORTH]))
    assert not answer.abstained
    assert "Escalation when professionals disagree" in answer.answer


def test_unfiltered_questions_are_unchanged(service) -> None:
    answer = service.ask("What did the Child C review teach?")
    assert not answer.abstained and "Neglect and poor home conditions" in answer.answer
