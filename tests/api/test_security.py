"""Access keys, admin routes, CORS, request limits, timeouts, error bodies and privacy of logs.

Servers are real `pka serve` processes on 127.0.0.1; the timeout and 500 tests drive the app in-process with a
stand-in service (a real server cannot be made slow or broken on demand).
"""

from __future__ import annotations

import http.client
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from assistant.api.app import create_app
from assistant.security import check_access, key_matches, presented_key, redact
from core.config import Settings
from ingest.pipeline import IngestLock
from tests.servers import api_server, ingested_fixture_corpus

FIXTURES = Path(__file__).parents[1] / "fixtures" / "knowledge"
ROOT = Path(__file__).resolve().parents[2]
UI = "http://127.0.0.1:8501"


# ---- pure functions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("NHS number 943 476 5919 for the child", "943 476 5919", "[nhs-number]"),
        ("nhs no 9434765919.", "9434765919", "[nhs-number]"),
        ("call mum on 07700 900123 today", "07700 900123", "[phone]"),
        ("ring +44 7700 900123", "7700 900123", "[phone]"),
        ("office (020) 7946 0958", "7946 0958", "[phone]"),
        ("email jo.bloggs+x@example.org.uk please", "jo.bloggs", "[email]"),
        ("born 03/04/2015 in town", "03/04/2015", "[date]"),
        ("DOB 2015-04-03", "2015-04-03", "[date]"),
        ("born on 3rd April 2015", "April 2015", "[date]"),
        ("born April 3, 2015", "April 3", "[date]"),
        ("lives at BN11 3PP now", "BN11 3PP", "[postcode]"),
        ("lives at sw1a 1aa now", "sw1a 1aa", "[postcode]"),
        ("did John Smith attend", "John Smith", "[name]"),
        ("did Mary-Jane O'Neil attend", "Mary-Jane", "[name]"),
        ("spoke to Mrs Patel yesterday", "Patel", "[name]"),
    ],
)
def test_redact_hides_personal_data(text: str, hidden: str, kept: str) -> None:
    out = redact(text)
    assert hidden not in out and kept in out, out


@pytest.mark.parametrize(
    "text",
    [
        "How many rapid reviews were held in 2023?",
        "What did the Child Q review teach about the MASH?",
        "Who chairs the ESSCP board?",
        "minute 17.3 of the meeting",
    ],
)
def test_redact_leaves_ordinary_questions_alone(text: str) -> None:
    assert redact(text) == text


def test_keys_and_access_rules() -> None:
    assert key_matches("b", ("a", "b")) and not key_matches("B", ("a", "b")) and not key_matches(None, ("a",))
    assert not key_matches("", ("",))
    assert presented_key({"authorization": "Bearer k1"}) == "k1"
    assert presented_key({"authorization": "bearer  k1 "}) == "k1"
    assert presented_key({"x-api-key": "k2"}) == "k2"
    assert presented_key({"authorization": "Basic dXNlcg=="}) is None
    read, admin = ("r",), ("a",)
    assert check_access("/ask", None, (), ()) is None  # development default: open
    assert check_access("/admin/reload", None, (), ()) is None
    assert check_access("/health", None, read, admin) is None
    assert check_access("/ask", None, read, admin).status == 401
    assert check_access("/ask", "wrong", read, admin).status == 401
    assert check_access("/ask", "r", read, admin) is None
    assert check_access("/ask", "a", read, admin) is None  # an admin key reads too
    assert check_access("/admin/reload", "r", read, admin).status == 403
    assert check_access("/admin/reload", None, read, admin).status == 401
    assert check_access("/admin/reload", "a", read, admin) is None
    assert check_access("/admin/reload", "r", read, ()).status == 403  # no admin key set: admin routes closed
    assert check_access("/ask", None, (), admin) is None  # only admin keys set: reading stays open
    assert check_access("/admin/ingest", None, (), admin).status == 401


# ---- a real server with keys ----------------------------------------------------------------------------------


def _corpus(tmp: Path) -> dict[str, str]:
    env, _ = ingested_fixture_corpus(tmp)
    return env


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    env = _corpus(tmp_path_factory.mktemp("keyed"))
    env |= {"PKA_API_KEYS": "read-one, read-two", "PKA_ADMIN_API_KEYS": "admin-key"}
    with api_server(env) as url:
        yield url


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/documents", None, 200),
        ("GET", "/documents/minutes.txt", None, 200),
        ("GET", "/glossary", None, 200),
        ("POST", "/ask", {"question": "rapid reviews"}, 200),
        ("POST", "/search", {"query": "rapid reviews"}, 200),
        ("POST", "/feedback", {"question": "q", "answer": "a", "citations": [], "rating": "up"}, 201),
        ("GET", "/no-such-route", None, 404),
    ],
)
def test_routes_need_a_key(keyed: str, method: str, path: str, body, status: int) -> None:
    r = httpx.request(method, f"{keyed}{path}", json=body)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized" and "Bearer" in r.json()["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    r = httpx.request(method, f"{keyed}{path}", json=body, headers=_bearer("not-a-key"))
    assert r.status_code == 401 and r.json()["message"] == "The API key is not valid."
    r = httpx.request(method, f"{keyed}{path}", json=body, headers=_bearer("read-one"))
    assert r.status_code == status, r.text
    r = httpx.request(method, f"{keyed}{path}", json=body, headers={"X-API-Key": "read-two"})
    assert r.status_code == status, r.text


def test_health_and_docs_stay_open(keyed: str) -> None:
    assert httpx.get(f"{keyed}/health").status_code == 200
    assert httpx.get(f"{keyed}/openapi.json").status_code == 200
    assert httpx.get(f"{keyed}/docs").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/admin/reload"),
        ("GET", "/admin/feedback/export"),
        ("POST", "/admin/ingest"),
        ("DELETE", "/admin/documents/nope.txt"),
    ],
)
def test_admin_routes_need_an_admin_key(keyed: str, method: str, path: str) -> None:
    assert httpx.request(method, f"{keyed}{path}").status_code == 401
    r = httpx.request(method, f"{keyed}{path}", headers=_bearer("read-one"))
    assert r.status_code == 403 and r.json()["error"] == "forbidden"


def test_admin_key_opens_admin_and_read_routes(keyed: str) -> None:
    r = httpx.post(f"{keyed}/admin/reload", headers=_bearer("admin-key"))
    assert r.status_code == 200 and r.json()["chunks"] > 0
    assert httpx.get(f"{keyed}/admin/feedback/export", headers={"X-API-Key": "admin-key"}).status_code == 200
    assert httpx.delete(f"{keyed}/admin/documents/nope.txt", headers=_bearer("admin-key")).status_code == 404
    assert httpx.get(f"{keyed}/documents", headers=_bearer("admin-key")).status_code == 200


def test_cors_allows_the_ui_origin_only(keyed: str) -> None:
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"}
    r = httpx.options(f"{keyed}/ask", headers={"Origin": UI, **pre})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == UI
    r = httpx.options(f"{keyed}/ask", headers={"Origin": "http://evil.example", **pre})
    assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
    r = httpx.get(f"{keyed}/documents", headers={"Origin": "http://localhost:8501", **_bearer("read-one")})
    assert r.headers["access-control-allow-origin"] == "http://localhost:8501"
    r = httpx.get(f"{keyed}/documents", headers={"Origin": "http://evil.example", **_bearer("read-one")})
    assert "access-control-allow-origin" not in r.headers
    r = httpx.get(f"{keyed}/documents", headers={"Origin": UI})  # the browser can read a 401 too
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == UI


# ---- a real server without keys: admin routes, limits, error bodies -----------------------------------------


@pytest.fixture(scope="module")
def open_api(tmp_path_factory):
    env = _corpus(tmp_path_factory.mktemp("open"))
    with api_server(env) as url:
        yield url, env


def test_body_over_the_limit_is_413(open_api) -> None:
    url = open_api[0]
    big = {"question": "x" * (65 * 1024)}
    r = httpx.post(f"{url}/ask", json=big)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large" and "65536" in r.json()["message"]

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(20):
            yield b"x" * 8192

    r = httpx.post(f"{url}/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    r = httpx.post(f"{url}/ask", json={"question": "x" * 30_000})  # under the byte limit, over the question limit
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"question": "ok", "history": [{"role": "user", "content": "x"}] * 51}, 422),
        ({"question": "ok", "history": [{"role": "user", "content": "x" * 20_001}]}, 422),
        ({"question": "ok", "history": [{"role": "user", "content": "rapid reviews"}] * 50}, 200),
        ({"question": "ok", "filters": {"year_from": 1800}}, 422),
        ({"question": "ok", "filters": {"colour": "red"}}, 422),
        ({"question": 5}, 422),
        ([1, 2], 422),
    ],
)
def test_request_limits(open_api, body, status: int) -> None:
    r = httpx.post(f"{open_api[0]}/ask", json=body)
    assert r.status_code == status, r.text
    if status >= 400:
        assert r.json()["error"] == "invalid_request" and r.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/ask", 405),
        ("DELETE", "/documents", 405),
        ("PUT", "/feedback", 405),
        ("GET", "/nothing/here", 404),
    ],
)
def test_error_bodies_are_json(open_api, method: str, path: str, status: int) -> None:
    r = httpx.request(method, f"{open_api[0]}{path}")
    assert r.status_code == status and r.headers["content-type"] == "application/json"
    assert set(r.json()) == {"error", "message"} and r.json()["message"]


@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "%2e%2e/%2e%2e/etc/passwd",
        "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "..%5c..%5cwindows%5cwin.ini",
        "%252e%252e%252fetc%252fpasswd",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "....//....//etc/passwd",
        "%2e/minutes.txt",
        "minutes.txt%00.pdf",
        "..%c0%afetc%c0%afpasswd",
        "a" * 301,
    ],
)
def test_document_ids_cannot_traverse(open_api, path: str) -> None:
    for prefix in ("/documents/", "/admin/documents/"):
        method = "GET" if prefix == "/documents/" else "DELETE"
        r = httpx.request(method, f"{open_api[0]}{prefix}{path}")
        # refused, or (an id that a file name could be, `%2e%2e%2fetc` say) looked up in the store and not found
        assert (r.status_code, r.json()["error"]) in ((400, "bad_input"), (404, "not_found")), (prefix, path, r.text)
        assert "root:" not in r.text


def test_literal_dot_dot_is_refused(open_api) -> None:
    """httpx would normalise `..`; send it raw."""
    parts = urlsplit(open_api[0])
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", "/documents/../../etc/passwd")
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    assert resp.status in (400, 404) and "root:" not in body


def test_admin_ingest_runs_the_pipeline_and_refuses_while_locked(open_api) -> None:
    url, env = open_api
    knowledge, data = Path(env["PKA_KNOWLEDGE_DIR"]), Path(env["PKA_DATA_DIR"])
    (knowledge / "neglect.md").write_text("# Neglect strategy\n\nThe neglect toolkit was relaunched for gardeners.\n")
    (knowledge / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    try:
        with IngestLock(data / "ingest.lock"):  # another process (this one) holds the lock
            r = httpx.post(f"{url}/admin/ingest", timeout=60)
        assert r.status_code == 409 and r.json()["error"] == "ingest_locked"
        r = httpx.post(f"{url}/admin/ingest", timeout=60)
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["added"] == ["neglect.md"] and report["ok"] is False
        assert report["failed"][0]["name"] == "broken.pdf" and "PDF" in report["failed"][0]["reason"]
        assert sorted(report["unchanged"]) == ["briefing.md", "minutes.txt", "procedure.html"]
        hits = httpx.post(f"{url}/search", json={"query": "neglect toolkit gardeners", "top_k": 1}).json()["results"]
        assert hits[0]["document_id"] == "neglect.md"
    finally:
        (knowledge / "broken.pdf").unlink()


def test_admin_delete_document(open_api) -> None:
    url, env = open_api
    before = httpx.get(f"{url}/health").json()["chunks"]
    with IngestLock(Path(env["PKA_DATA_DIR"]) / "ingest.lock"):
        assert httpx.delete(f"{url}/admin/documents/minutes.txt").status_code == 409
    r = httpx.delete(f"{url}/admin/documents/minutes.txt")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["deleted"] == "minutes.txt" and body["chunks"] > 0 and body["index_chunks"] == before - body["chunks"]
    assert httpx.get(f"{url}/documents/minutes.txt").status_code == 404
    results = httpx.post(f"{url}/search", json={"query": "rapid reviews were held", "top_k": 10}).json()["results"]
    assert "minutes.txt" not in {x["document_id"] for x in results}
    r = httpx.delete(f"{url}/admin/documents/minutes.txt")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


# ---- in-process: timeout and unexpected errors --------------------------------------------------------------


class _StandIn:
    """Just enough of AssistantService for the app; `search`/`ask` do what the test says."""

    def __init__(self, settings: Settings, action) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.retriever = SimpleNamespace(refresh=lambda **_: False, chunks=[])
        self.embedder = SimpleNamespace(model_id="stand-in")
        self.action = action

    def search(self, *_a, **_k):  # type: ignore[no-untyped-def]
        return self.action()

    def ask(self, *_a, **_k):  # type: ignore[no-untyped-def]
        return self.action()


def _client(tmp_path: Path, action, **settings) -> TestClient:  # type: ignore[no-untyped-def]
    s = Settings(data_dir=tmp_path, knowledge_dir=tmp_path, _env_file=None, **settings)  # type: ignore[call-arg]
    return TestClient(create_app(s, service=_StandIn(s, action)), raise_server_exceptions=False)


def test_slow_requests_get_504(tmp_path: Path) -> None:
    with _client(tmp_path, lambda: time.sleep(3) or [], request_timeout_s=0.3) as client:
        for path, body in (("/search", {"query": "q"}), ("/ask", {"question": "q"})):
            t0 = time.monotonic()
            r = client.post(path, json=body)
            assert r.status_code == 504 and r.json()["error"] == "timeout", r.text
            assert time.monotonic() - t0 < 2.5


def test_unexpected_errors_are_500_without_details(tmp_path: Path) -> None:
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail /srv/app.py line 7")

    with _client(tmp_path, boom) as client:
        r = client.post("/ask", json={"question": "q"})
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "message": "Something went wrong on our side."}
    assert "secret" not in r.text and "Traceback" not in r.text


# ---- privacy of logs ------------------------------------------------------------------------------------------


def test_questions_are_not_logged_by_default_and_redacted_when_enabled(settings, embedder, store, caplog) -> None:
    from assistant.service import build_service
    from ingest.pipeline import ingest_corpus

    ingest_corpus(settings, embedder=embedder, store=store)
    question = "Did John Smith (NHS 943 476 5919, DOB 03/04/2015) get a rapid review?"
    caplog.set_level(logging.DEBUG)
    build_service(settings, embedder=embedder).ask(question)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "John Smith" not in logged and "943 476 5919" not in logged and "rapid review" not in logged
    caplog.clear()
    build_service(settings.model_copy(update={"log_questions": True}), embedder=embedder).ask(question)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "rapid review" in logged  # the question is logged...
    assert "John Smith" not in logged and "943 476 5919" not in logged and "03/04/2015" not in logged  # ...redacted
