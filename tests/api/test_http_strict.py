"""HTTP hygiene (issue 14 §5) against a real `pka serve`: the question log, JSON for every 4xx (malformed HTTP and
refused CORS preflights too), unknown query parameters refused on every route, and the Host header."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import api_server, ingested_fixture_corpus


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("strict")
    env, _ = ingested_fixture_corpus(tmp)
    log = tmp / "server.log"
    with api_server({**env, "PKA_LOG_QUESTIONS": "true"}, log_path=log) as url:
        yield url, log


def _raw(url: str, request: bytes) -> tuple[str, dict[str, str], bytes]:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return lines[0], headers, body


def test_log_questions_logs_the_redacted_question(served) -> None:
    url, log = served
    question = "Did the rapid review reach Jane Doe on 07700 900123 about the quarzel audit?"
    assert httpx.post(f"{url}/ask", json={"question": question}, timeout=60).status_code == 200
    deadline = time.monotonic() + 10
    while "quarzel" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    text = log.read_text(errors="replace")
    assert "quarzel audit" in text, text[-2000:]
    assert "07700 900123" not in text


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
        b"GET /health HTTP/9.9\r\n\r\n",
        b"POST /ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n",
    ],
)
def test_malformed_http_gets_a_json_400(served, request_bytes: bytes) -> None:
    status, headers, body = _raw(served[0], request_bytes)
    assert " 400 " in status, status
    assert headers["content-type"].startswith("application/json"), headers
    assert b'"error": "bad_input"' in body  # the code the routes give a bad request (core.errors.BadInput)


def test_a_refused_cors_preflight_is_json(served) -> None:
    pre = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    r = httpx.options(f"{served[0]}/ask", headers=pre)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "cors_refused" and "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/search", {"query": "rapid review"}),
        ("POST", "/ask", {"question": "rapid review"}),
        ("GET", "/documents", None),
        ("GET", "/documents/minutes.txt", None),
        ("GET", "/glossary", None),
        ("GET", "/health", None),
        ("GET", "/reviews", None),
        ("GET", "/themes", None),
        ("POST", "/admin/reload", None),
        ("GET", "/admin/feedback/export", None),
    ],
)
def test_unknown_query_parameters_are_refused_on_every_route(served, method: str, path: str, body) -> None:
    r = httpx.request(method, f"{served[0]}{path}?foo=1", json=body, timeout=60)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_request" and "foo" in r.json()["message"]


def test_declared_query_parameters_still_work(served) -> None:
    url = served[0]
    assert httpx.get(f"{url}/admin/feedback/export?format=csv").status_code == 200
    r = httpx.post(f"{url}/ask?stream=false", json={"question": "rapid review"}, timeout=60)
    assert r.status_code == 200


def test_redirects_never_reflect_the_host_header(served) -> None:
    r = httpx.get(f"{served[0]}/health/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 307  # the trailing-slash redirect
    assert "evil.example" not in r.headers["location"] and r.headers["location"] == "/health"


def test_trusted_hosts_refuse_other_hosts(tmp_path: Path) -> None:
    env, _ = ingested_fixture_corpus(tmp_path)
    with api_server({**env, "PKA_TRUSTED_HOSTS": "127.0.0.1,localhost"}) as url:
        assert httpx.get(f"{url}/health").status_code == 200
        r = httpx.get(f"{url}/health/", headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code == 400 and r.json()["error"] == "untrusted_host", r.text
        assert "evil.example" not in r.headers.get("location", "")
