"""HTTP hardening (issue 14 §5, last four items) against a real `pka serve` with no keys set: cross-site writes
refused, idle and slow connections closed, no query-string value in the access log, /docs served offline."""

from __future__ import annotations

import re
import socket
import time
from urllib.parse import urlsplit

import httpx
import pytest

from tests.servers import api_server

SECRET = "sk-live-4f9d2c7e81"  # a key a client wrongly sent in a query string


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hardening")
    env = {
        "PKA_DATA_DIR": str(tmp / "data"),
        "PKA_EMBEDDING_BACKEND": "hashing",
        "PKA_HEADER_TIMEOUT_S": "1",
        "PKA_KEEP_ALIVE_TIMEOUT_S": "1",
        "PKA_BODY_TIMEOUT_S": "1",
        "PKA_CORS_ORIGINS": "http://ui.example:8501",
    }
    log = tmp / "server.log"
    with api_server(env, log_path=log) as url:
        yield url, log


def _connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    return socket.create_connection((parts.hostname, parts.port), timeout=15)


def _response(sock: socket.socket) -> bytes:
    """One whole response (head and Content-Length body) from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection mid-response"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: *(\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += sock.recv(65536)
    return head


def _closed_by_server(sock: socket.socket, *, dribble: bytes = b"", within: float = 15.0) -> bool:
    """Whether the server closes `sock` within `within` s (a bound, not a measurement), sending `dribble` a byte
    at a time meanwhile."""
    sock.settimeout(0.25)
    deadline = time.monotonic() + within
    sent = 0
    while time.monotonic() < deadline:
        try:
            if sent < len(dribble):
                sock.sendall(dribble[sent : sent + 1])
                sent += 1
            if sock.recv(4096) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:  # reset or broken pipe: closed too
            return True
    return False


# 1. Cross-site writes


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {"x": "1"}, "headers": {"Origin": "http://evil.example"}}, 403),  # a form on another site
        ({"data": {"x": "1"}}, 415),  # a form, origin hidden
        ({"content": b"{}", "headers": {"Content-Type": "text/plain"}}, 415),  # fetch's no-preflight type
        ({"files": {"f": ("a.txt", b"x")}}, 415),  # multipart
        ({"json": {}, "headers": {"Origin": "http://evil.example"}}, 403),
        ({"headers": {"Origin": "null"}}, 403),  # a sandboxed page or a file:// page
        ({"content": b"{}"}, 415),  # a body with no content type
    ],
)
def test_cross_site_or_non_json_writes_are_refused(served, kwargs, status) -> None:
    r = httpx.post(f"{served[0]}/admin/reload", timeout=30, **kwargs)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json") and "error" in r.json()


def test_delete_from_a_foreign_origin_is_refused(served) -> None:
    r = httpx.delete(f"{served[0]}/admin/documents/minutes.txt", headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and r.json()["error"] == "cross_origin_refused"


def test_json_clients_same_origin_and_allowed_origins_are_unaffected(served) -> None:
    url = served[0]
    assert httpx.post(f"{url}/admin/reload", timeout=60).status_code == 200  # no body, no Origin
    assert httpx.post(f"{url}/admin/reload", json={}, timeout=60).status_code == 200
    for origin in ("http://ui.example:8501", url):  # the UI's origin; this server's own (Swagger's Try it out)
        r = httpx.post(f"{url}/search", json={"query": "rapid review"}, headers={"Origin": origin}, timeout=60)
        assert r.status_code != 403 and r.status_code != 415, r.text
    r = httpx.get(f"{url}/documents", headers={"Origin": "http://evil.example"})  # reads are CORS's business
    assert r.status_code == 200


# 2. Idle and slow connections


def test_idle_sockets_do_not_hold_the_server_and_are_closed(served) -> None:
    url = served[0]
    idle = [_connect(url) for _ in range(50)]
    try:
        assert httpx.get(f"{url}/health", timeout=15).status_code == 200
        assert all(_closed_by_server(s) for s in idle)
    finally:
        for s in idle:
            s.close()


def test_a_slowly_sent_header_is_cut_off(served) -> None:
    with _connect(served[0]) as s:
        # a slowloris: a header that never ends, a byte at a time (each byte would re-arm a keep-alive timer)
        assert _closed_by_server(s, dribble=b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 200)


def test_a_slowly_sent_body_gets_a_408(served) -> None:
    head = b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"
    with _connect(served[0]) as s:
        s.sendall(head)
        s.settimeout(0.25)
        deadline, reply = time.monotonic() + 15, b""
        while not reply and time.monotonic() < deadline:
            try:
                s.sendall(b" ")  # a byte at a time, never the whole body
                reply = s.recv(65536)
            except TimeoutError:
                continue
        assert reply.startswith(b"HTTP/1.1 408"), reply
        assert b"request_timeout" in reply or b"request_timeout" in s.recv(65536)


def test_a_kept_alive_connection_still_serves_and_is_then_closed(served) -> None:
    with _connect(served[0]) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert _response(s).startswith(b"HTTP/1.1 200")
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # a second request on the same connection
        assert _response(s).startswith(b"HTTP/1.1 200")
        assert _closed_by_server(s)


# 3. Query strings in the access log


def test_a_key_in_a_query_string_is_never_logged(served) -> None:
    url, log = served
    httpx.get(f"{url}/documents", params={"api_key": SECRET})
    httpx.get(f"{url}/health", params={"token": SECRET, "q": "my child is at risk"})
    deadline = time.monotonic() + 10
    while "api_key=" not in log.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    text = log.read_text(errors="replace")
    assert "GET /documents?api_key=***" in text, text[-2000:]  # the request is logged...
    assert SECRET not in text and "at risk" not in text and "at%20risk" not in text and "at+risk" not in text


# 4. /docs offline


def test_docs_reference_no_external_host_and_their_assets_answer(served) -> None:
    url = served[0]
    r = httpx.get(f"{url}/docs")
    assert r.status_code == 200
    assert not re.search(r"(https?:)?//[a-z0-9.-]+", r.text.replace("window.location.origin", "")), r.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert len(refs) >= 3  # the script, the stylesheet, the icon
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = httpx.get(f"{url}{ref}")
        assert asset.status_code == 200 and len(asset.content) > 0, ref
    assert httpx.get(f"{url}/openapi.json").status_code == 200
