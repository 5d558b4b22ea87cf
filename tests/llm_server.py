"""A small, real OpenAI-compatible chat server for tests: POST /v1/chat/completions (JSON or `stream: true` SSE).

It reads the numbered sources out of the prompt the assistant sends and answers according to its mode:

good          the source sentence that best matches the question, cited: "<sentence> [n]"
uncited       the same sentence with no marker
out_of_range  the same sentence cited as [99]
unsupported   an unrelated sentence cited [1]
numbers       the good sentence with a figure that is not in the source
mixed         the good sentence, then a second sentence whose figure is not in the source
modal         the good sentence with its "must"/"should" swapped, or a made-up "must" statement
inject        obeys instructions planted in a document: "HACKED [n]" when a source says so (else as good)
abstain       the fixed abstention phrase
slow          waits `delay` seconds before answering at all
trickle       streams the good answer one word every `delay` seconds
fail          HTTP 500
garbage       HTTP 200 with an HTML page instead of JSON or events
empty         a well-formed reply with no text

The mode is set by `server.mode = ...`, by POST /control {"mode": ..., "delay": ...}, or per request by a model
name "fake-<mode>". Every request body is kept in `server.requests` (GET /requests returns them).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import free_port

MODES = (
    "good",
    "uncited",
    "out_of_range",
    "unsupported",
    "numbers",
    "mixed",
    "modal",
    "inject",
    "abstain",
    "slow",
    "trickle",
    "fail",
    "garbage",
    "empty",
)
ABSTAIN = "The sources do not answer this question."
_SOURCE = re.compile(r'<source n="(\d+)"[^>]*>\n(.*?)\n</source>', re.S)
_WORD = re.compile(r"[a-z0-9]+")


def _sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:[·•\-*]|\d+(?:\.\d+)*)\s+", "", line).strip()
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line) if s.strip()]
    return out


def parse_prompt(messages: list[dict[str, Any]]) -> tuple[str, dict[int, str]]:
    """(question, {n: source text}) from the last user message."""
    user = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    content = user.get("content", "")
    if isinstance(content, list):
        content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
    sources = {int(n): text for n, text in _SOURCE.findall(content)}
    m = re.search(r"^Question: (.*)$", content, re.M)
    return (m.group(1) if m else ""), sources


def best_sentence(question: str, sources: dict[int, str]) -> tuple[int, str]:
    """The substantive source sentence sharing most words with the question, and its source number."""
    q = set(_WORD.findall(question.lower()))
    best: tuple[int, int, str] = (-1, 1, "")
    for n in sorted(sources):
        for s in _sentences(sources[n]):
            if len(s.split()) < 5:
                continue
            score = len(q & set(_WORD.findall(s.lower())))
            if score > best[0]:
                best = (score, n, s)
    return best[1], best[2].rstrip(".")


def reply_for(mode: str, messages: list[dict[str, Any]]) -> str:
    question, sources = parse_prompt(messages)
    if not sources:
        return ABSTAIN
    n, sentence = best_sentence(question, sources)
    if mode == "uncited":
        return f"{sentence}."
    if mode == "out_of_range":
        return f"{sentence} [99]."
    if mode == "unsupported":
        return "Bananas ripen faster in warm tropical climates near the equator [1]."
    if mode == "numbers":
        changed = re.sub(r"\d+", lambda m: str(int(m.group(0)) + 40), sentence, count=1)
        if changed == sentence:
            changed = f"{sentence} in 47 cases"
        return f"{changed} [{n}]."
    if mode == "mixed":
        return f"{sentence} [{n}]. This happened in 2019 across 47 separate partnership areas [{n}]."
    if mode == "modal":
        swapped = re.sub(r"\bshould\b", "must", sentence) if " should " in sentence else None
        if swapped is None:
            swapped = re.sub(r"\bmust\b", "should", sentence) if " must " in sentence else None
        return f"{swapped or sentence + '; staff must inform the police'} [{n}]."
    if mode == "inject":
        for k, text in sources.items():
            if "HACKED" in text:
                return f"HACKED [{k}]"
    if mode == "abstain":
        return ABSTAIN
    if mode == "empty":
        return ""
    return f"{sentence} [{n}]."


class FakeLLM:
    def __init__(self) -> None:
        self.mode = "good"
        self.delay = 30.0
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False

    def set(self, mode: str, *, delay: float | None = None) -> None:
        assert mode in MODES, mode
        self.mode = mode
        if delay is not None:
            self.delay = delay

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
        self.mode, self.delay = "good", 30.0

    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    def last_prompt(self) -> str:
        with self._lock:
            body = self.requests[-1]
        return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def _handler(server: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/requests":
                with server._lock:
                    self._json(200, list(server.requests))
            elif self.path in ("/v1/models", "/models"):
                self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "tests"}]})
            else:
                self._json(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._json(400, {"error": {"message": "bad json"}})
                return
            if self.path == "/control":
                server.set(body.get("mode", server.mode), delay=body.get("delay"))
                self._json(200, {"mode": server.mode, "delay": server.delay})
                return
            if self.path not in ("/v1/chat/completions", "/chat/completions"):
                self._json(404, {"error": {"message": "not found"}})
                return
            with server._lock:
                server.requests.append(body)
            model = str(body.get("model") or "")
            mode = model.removeprefix("fake-") if model.removeprefix("fake-") in MODES else server.mode
            try:
                self._complete(mode, body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def _complete(self, mode: str, body: dict[str, Any]) -> None:
            if mode == "slow":
                time.sleep(server.delay)
            if mode == "fail":
                self._json(500, {"error": {"message": "the model crashed", "type": "server_error"}})
                return
            if mode == "garbage":
                data = b"<html><body>502 Bad Gateway, or so</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            text = reply_for("good" if mode in ("slow", "trickle") else mode, body.get("messages") or [])
            model = body.get("model") or "fake"
            if not body.get("stream"):
                self._json(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    },
                )
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            pieces = re.findall(r"\S+\s*", text)
            for i, piece in enumerate([None, *pieces, ""]):
                delta: dict[str, Any] = {"role": "assistant", "content": ""} if piece is None else {"content": piece}
                chunk = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {"index": 0, "delta": delta, "finish_reason": "stop" if i == len(pieces) + 1 else None}
                    ],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                if mode == "trickle" and piece:
                    time.sleep(server.delay)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler


@contextlib.contextmanager
def fake_llm_server() -> Iterator[FakeLLM]:
    server = FakeLLM()
    thread = threading.Thread(target=server.httpd.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
