"""Ask a running API over HTTP (for `pka ask`), and say plainly why not when it cannot be used.

Which API: `--api URL`, else PKA_API_URL when it is set (both trusted as given), else the configured
PKA_API_HOST:PKA_API_PORT, used only when its /health answers and reports the same store (Settings.store_id), so
a command pointed at another data folder never gets answers from the wrong knowledge base.

Nothing heavy: this is the fast path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from core.config import Settings
from core.errors import BadInput, EmptyKnowledgeBase

HEALTH_TIMEOUT_S = 3.0
_ANY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}


@dataclass(frozen=True)
class ApiTarget:
    url: str
    explicit: bool  # named by --api or PKA_API_URL: used without the store check


@dataclass(frozen=True)
class RemoteAnswer:
    answer: dict[str, Any] | None  # the API's AskResponse, or None when the API was not used...
    reason: str  # ...and then why not, in plain words


def api_target(settings: Settings, override: str | None = None) -> ApiTarget:
    if override:
        return ApiTarget(override.rstrip("/"), True)
    if "api_url" in settings.model_fields_set:
        return ApiTarget(settings.api_url.rstrip("/"), True)
    host = "127.0.0.1" if settings.api_host in _ANY_INTERFACE else settings.api_host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return ApiTarget(f"http://{host}:{settings.api_port}", False)


def _message(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("error", "")), str(body.get("message", ""))
    return "", str(body)[:200]


def ask_remote(settings: Settings, target: ApiTarget, question: str) -> RemoteAnswer:
    """The API's answer, or None and the reason it was not used. A question the API refuses (4xx) or an empty
    knowledge base is an error here too: answering locally would refuse it the same way."""
    headers = {"Accept": "application/json", "User-Agent": "pka-cli"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    ask_timeout = httpx.Timeout(settings.request_timeout_s + 10.0, connect=HEALTH_TIMEOUT_S)
    try:
        with httpx.Client(base_url=target.url, headers=headers, timeout=HEALTH_TIMEOUT_S) as http:
            health = http.get("/health")
            if health.status_code != 200:
                return RemoteAnswer(None, f"the API at {target.url} answered /health with HTTP {health.status_code}")
            try:
                info = health.json()
            except ValueError:
                return RemoteAnswer(None, f"{target.url}/health did not answer with JSON (is it this API?)")
            if not isinstance(info, dict) or "store" not in info:
                return RemoteAnswer(None, f"{target.url}/health is not this API's")
            if not target.explicit and info.get("store_id") != settings.store_id:
                return RemoteAnswer(
                    None,
                    f"the API at {target.url} serves another knowledge base than this command's "
                    "(PKA_DATA_DIR or the Chroma server differ; set PKA_API_URL to use it anyway)",
                )
            if info.get("status") != "ok":
                return RemoteAnswer(None, f"the API at {target.url} reports its store as: {info.get('store')}")
            response = http.post("/ask", json={"question": question}, timeout=ask_timeout)
    except httpx.TimeoutException:
        return RemoteAnswer(None, f"the API at {target.url} did not answer in time")
    except httpx.HTTPError as exc:
        return RemoteAnswer(None, f"no API answered at {target.url} ({type(exc).__name__})")
    code, message = _message(response)
    if response.status_code == 200:
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and "answer" in answer:
            return RemoteAnswer(answer, "")
        return RemoteAnswer(None, f"the API at {target.url} sent an answer this command cannot read")
    if response.status_code in (401, 403):
        return RemoteAnswer(
            None, f"the API at {target.url} refused the request (HTTP {response.status_code}: set PKA_API_KEY)"
        )
    if code == EmptyKnowledgeBase.code:
        raise EmptyKnowledgeBase(message or EmptyKnowledgeBase().args[0])
    if 400 <= response.status_code < 500:
        raise BadInput(message or f"the API refused the question (HTTP {response.status_code})")
    return RemoteAnswer(None, f"the API at {target.url} failed (HTTP {response.status_code}: {message or code})")
