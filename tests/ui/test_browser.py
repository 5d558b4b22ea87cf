"""End-to-end: the real API and the real Streamlit server, driven by Debian's headless Chromium via Playwright.

Needs /usr/bin/chromium and the `playwright` package (bash scripts/install_browser.sh); skipped without them.
The API runs on a throw-away data dir ingested with the fast hashing embedder. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from testing.servers import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "What did the Child Z review teach?"
URGENT = "My pupil has a bruise on her face today and is scared to go home"


def _require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (run: bash scripts/install_browser.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright package is not installed (run: bash scripts/install_browser.sh)")


def _start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # the group this test started (start_new_session=True)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before it was ready:\n{log.read_text()[-3000:]}")
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200:
                return r
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.5)
    pytest.fail(f"{url} not ready after {timeout_s}s ({last!r}):\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    _require_browser()
    tmp = tmp_path_factory.mktemp("pka-browser")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PKA_")}
    env.update(
        PKA_DATA_DIR=str(tmp / "data"),  # hashing vectors must never share the real model's data dir
        PKA_EMBEDDING_BACKEND="hashing",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),  # this checkout
    )
    pka = [sys.executable, "-m", "pka_cli"]
    ingest = subprocess.run([*pka, "ingest"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert ingest.returncode == 0, f"pka ingest failed:\n{ingest.stdout[-2000:]}\n{ingest.stderr[-2000:]}"

    api_port, ui_port = free_port(), free_port()
    api_log, ui_log = tmp / "api.log", tmp / "ui.log"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_start([*pka, "serve", "--host", "127.0.0.1", "--port", str(api_port)], env, api_log))
        health = _wait_http(f"http://127.0.0.1:{api_port}/health", procs[0], api_log, 180).json()
        assert health["chunks"] > 0, health

        ui_env = {**env, "PKA_API_URL": f"http://127.0.0.1:{api_port}"}
        ui_cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "ui/app.py",
            "--server.port",
            str(ui_port),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ]
        procs.append(_start(ui_cmd, ui_env, ui_log))
        _wait_http(f"http://127.0.0.1:{ui_port}/_stcore/health", procs[1], ui_log, 90)
        yield {"ui": f"http://127.0.0.1:{ui_port}", "api": f"http://127.0.0.1:{api_port}"}
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.fixture
def browser_page() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def _nonempty_png(path: Path) -> None:
    assert path.exists() and path.stat().st_size > 1000, path
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _ask(page, url: str, question: str):
    from playwright.sync_api import expect

    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled(timeout=60_000)
    box.fill(question)
    box.press("Enter")
    marker = page.locator("a.pka-cite").first
    expect(marker).to_be_visible(timeout=120_000)
    return marker


def test_ask_open_citation_and_document(servers: dict[str, str], browser_page) -> None:
    import re

    from playwright.sync_api import expect

    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # The answer arrives with [n] markers linked to their sources, and says what was searched.
    marker = _ask(page, servers["ui"], QUESTION)
    expect(page.get_by_text("Searched all documents")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Connected · \d+ documents"))).to_be_visible()
    href = marker.get_attribute("href") or ""
    assert href.startswith("#pka-") and page.locator(href).count() == 1
    marker.click()
    # One click on [n] opens the cited passage, highlighted, and brings it into view.
    mark = page.locator(f"{href} mark.pka-quote").first
    expect(mark).to_be_visible(timeout=30_000)
    expect(mark).to_be_in_viewport(timeout=30_000)
    assert mark.inner_text().strip()
    assert len(page.context.pages) == 1  # the marker jumps within the page, it opens no tab
    shot = ARTIFACTS / "ui_citation.png"
    page.screenshot(path=str(shot), full_page=True)
    _nonempty_png(shot)

    # Feedback: saved, or (while the API has no /feedback yet) a calm "could not be saved".
    page.get_by_role("button", name="Helpful", exact=True).first.click()
    expect(page.get_by_text(re.compile(r"feedback (\(helpful\) was saved|could not be saved)"))).to_be_visible(
        timeout=30_000
    )

    # The whole document, with the quote highlighted in context.
    page.get_by_role("button", name="Open the whole document").first.click()
    expect(page.locator("#pka-ctx")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Full text")).to_be_visible()
    doc_shot = ARTIFACTS / "ui_document.png"
    page.screenshot(path=str(doc_shot), full_page=False)
    _nonempty_png(doc_shot)
    page.get_by_role("button", name="← Back").click()
    expect(page.locator("a.pka-cite").first).to_be_visible(timeout=30_000)


def test_narrow_window_is_usable(servers: dict[str, str], browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 420, "height": 800})
    _ask(page, servers["ui"], QUESTION)
    expect(page.get_by_text("Sources", exact=True)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 430, f"horizontal scrolling at a narrow width ({width}px)"
    narrow = ARTIFACTS / "ui_narrow.png"
    page.screenshot(path=str(narrow), full_page=False)
    _nonempty_png(narrow)


def test_clear_filters_stays_cleared(servers: dict[str, str], browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.goto(servers["ui"], wait_until="domcontentloaded", timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Searching: all documents")).to_be_visible(timeout=60_000)
    sidebar.get_by_test_id("stMultiSelect").first.click()
    page.get_by_role("option", name="Minutes").click()
    page.keyboard.press("Escape")  # close the still-open option list
    expect(sidebar.get_by_text("Searching: type: Minutes")).to_be_visible()
    sidebar.get_by_role("button", name="Clear filters").click()
    expect(sidebar.get_by_text("Searching: all documents")).to_be_visible()
    sidebar.get_by_text("DSL", exact=True).click()  # touch another sidebar control
    expect(page.get_by_text("Start points for a DSL")).to_be_visible()
    expect(sidebar.get_by_text("Searching: all documents")).to_be_visible()
    expect(sidebar.get_by_text("Searching: type: Minutes")).to_have_count(0)


def test_urgent_answer_is_an_alert(servers: dict[str, str], browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(servers["ui"], wait_until="domcontentloaded", timeout=60_000)
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled(timeout=60_000)
    box.fill(URGENT)
    box.press("Enter")
    alert = page.get_by_role("alert").filter(has_text="999")
    expect(alert).to_be_visible(timeout=120_000)
    colour = alert.evaluate("e => getComputedStyle(e).borderTopColor")
    r, g, b = (int(x) for x in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
    assert r > 150 and g < 120 and b < 80, f"the alert is not red or amber: {colour}"
    reply = page.get_by_test_id("stChatMessage").last.inner_text()
    assert reply.count("999") == 1, reply
    assert reply.index("999") < 200  # the steps come first
    for unwanted in ("couldn't find", "can't find", "rephrase"):
        assert unwanted not in reply.lower(), reply
    shot = ARTIFACTS / "ui_urgent.png"
    page.screenshot(path=str(shot), full_page=False)
    _nonempty_png(shot)


def test_nothing_is_fetched_from_other_hosts(servers: dict[str, str], browser_page) -> None:
    """Works offline: the page (its icon included) loads nothing from a CDN."""
    from urllib.parse import urlparse

    page = browser_page
    outside: list[str] = []
    page.on(
        "request",
        lambda req: (
            outside.append(req.url)
            if urlparse(req.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(req.url).hostname not in ("127.0.0.1", "localhost")
            else None
        ),
    )
    _ask(page, servers["ui"], QUESTION)
    page.wait_for_timeout(1000)  # the favicon is requested after the page settles
    assert outside == []


def test_phone_width_placeholder_fits(servers: dict[str, str], browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(servers["ui"], wait_until="domcontentloaded", timeout=60_000)
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled(timeout=60_000)
    fit = box.evaluate(
        """e => {
            const s = getComputedStyle(e);
            const ctx = document.createElement("canvas").getContext("2d");
            ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
            const room = e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
            return {text: ctx.measureText(e.placeholder).width, room: room};
        }"""
    )
    assert fit["text"] <= fit["room"], f"the placeholder is cut off at 390 px: {fit}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 400


def test_briefing_stays_after_a_download(servers: dict[str, str], browser_page) -> None:
    from playwright.sync_api import expect

    page = browser_page
    page.goto(servers["ui"], wait_until="domcontentloaded", timeout=60_000)
    page.get_by_test_id("stSidebar").get_by_text("Reviews and themes", exact=True).click()
    page.get_by_role("button", name="7-minute briefing", exact=True).click()
    heading = page.get_by_role("heading", name="7-minute briefing:")
    expect(heading.first).to_be_visible(timeout=60_000)
    with page.expect_download() as pdf:
        page.get_by_role("button", name="Download PDF").click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    page.wait_for_timeout(1500)  # the rerun a download triggers
    expect(heading.first).to_be_visible()
    with page.expect_download() as md:
        page.get_by_role("button", name="Download Markdown").click()
    assert md.value.suggested_filename.endswith(".md")
    page.wait_for_timeout(1500)
    expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
    expect(page.get_by_role("button", name="Download Markdown")).to_be_visible()
    expect(page.get_by_role("columnheader", name="By when")).to_be_visible()  # the action plan table
