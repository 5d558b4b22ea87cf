"""A bounded load test of the HTTP API: /search and /ask at concurrency 1, 8 and 32.

It copies the knowledge folder to a temp folder, ingests it, starts `pka serve` on 127.0.0.1, and sends a fixed
number of requests per cell (or stops at a time cap), then prints a Markdown table and writes it to
bench/results/load.md. The real model by default; --hashing for a quick run with the test embedder.

    .venv/bin/python -m bench.load [--hashing] [--requests 200] [--time-cap 60] [--concurrency 1,8,32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from testing.servers import ROOT, api_server, run_cli

QUESTIONS = [
    "What did the Child Q rapid review teach?",
    "How many rapid reviews were held last year?",
    "Who chairs the safeguarding partnership board?",
    "What is the MASH and what does it do?",
    "How do I escalate a professional disagreement?",
    "What are the partnership's priorities?",
    "What does the neglect strategy say about early help?",
    "How long do young people stay on MACE?",
    "What training did the partnership deliver?",
    "What should a practitioner do if a baby is bruised?",
    "and what did it teach?",
    "What is the policy on drones over playgrounds?",
]


@dataclass
class Cell:
    endpoint: str
    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + self.errors

    def pct(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _body(endpoint: str, i: int) -> dict:
    q = QUESTIONS[i % len(QUESTIONS)]
    if endpoint == "/search":
        return {"query": q, "top_k": 5}
    if q.startswith("and "):
        return {"question": q, "history": [{"role": "user", "content": "What did the Child Q rapid review find?"}]}
    return {"question": q}


async def run_cell(url: str, endpoint: str, concurrency: int, total: int, time_cap: float) -> Cell:
    cell = Cell(endpoint, concurrency)
    counter = 0
    deadline = time.monotonic() + time_cap
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            nonlocal counter
            while counter < total and time.monotonic() < deadline:
                i = counter
                counter += 1
                t0 = time.perf_counter()
                try:
                    r = await client.post(endpoint, json=_body(endpoint, i))
                    ok = r.status_code == 200
                    detail = f"{r.status_code} {r.text[:120]}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{type(exc).__name__}: {exc}"
                ms = (time.perf_counter() - t0) * 1000
                if ok:
                    cell.latencies_ms.append(ms)
                else:
                    cell.errors += 1
                    if len(cell.error_samples) < 3:
                        cell.error_samples.append(detail)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cell.seconds = time.perf_counter() - start
    return cell


def table(cells: list[Cell]) -> str:
    lines = [
        "| endpoint | concurrency | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in cells:
        rps = c.requests / c.seconds if c.seconds else 0.0
        lines.append(
            f"| {c.endpoint} | {c.concurrency} | {c.requests} | {c.errors} | {rps:.1f} | "
            f"{c.pct(50):.0f} | {c.pct(95):.0f} | {c.pct(99):.0f} |"
        )
    return "\n".join(lines)


def workspace(tmp: Path, source: Path, backend: str) -> dict[str, str]:
    """Copy `source` into `tmp/knowledge` and return the environment a load run's `pka` processes share."""
    knowledge = tmp / "knowledge"
    shutil.copytree(source, knowledge)
    return {
        "PKA_KNOWLEDGE_DIR": str(knowledge),
        "PKA_DATA_DIR": str(tmp / "data"),
        "PKA_EMBEDDING_BACKEND": backend,
        "PKA_LOG_QUESTIONS": "false",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hashing", action="store_true", help="use the hashing embedder (fast, not realistic)")
    ap.add_argument("--requests", type=int, default=200, help="requests per endpoint and concurrency")
    ap.add_argument("--time-cap", type=float, default=60.0, help="seconds per endpoint and concurrency, at most")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.md")
    args = ap.parse_args()
    levels = [int(x) for x in args.concurrency.split(",")]
    backend = "hashing" if args.hashing else "sentence-transformers"

    with tempfile.TemporaryDirectory(prefix="pka-load-") as tmp:
        env = workspace(Path(tmp), args.knowledge, backend)
        t0 = time.perf_counter()
        result = run_cli(["ingest"], env, timeout=1800)
        if result.returncode not in (0, 1):
            print(result.stdout, result.stderr, file=sys.stderr)
            return 2
        print(f"ingest: {time.perf_counter() - t0:.1f}s\n{result.stdout.strip()}", file=sys.stderr)
        with api_server(env, timeout=300) as url:
            health = httpx.get(f"{url}/health", timeout=30).json()
            for i in range(3):  # warm up both paths once (model, index, caches)
                httpx.post(f"{url}/ask", json=_body("/ask", i), timeout=120)
                httpx.post(f"{url}/search", json=_body("/search", i), timeout=120)
            cells: list[Cell] = []
            for endpoint in ("/search", "/ask"):
                for level in levels:
                    cell = asyncio.run(run_cell(url, endpoint, level, args.requests, args.time_cap))
                    print(f"{endpoint} c={level}: {cell.requests} requests, {cell.errors} errors", file=sys.stderr)
                    for sample in cell.error_samples:
                        print(f"  error: {sample}", file=sys.stderr)
                    cells.append(cell)

    md = "\n".join(
        [
            "# Load test",
            "",
            f"`bench/load.py` run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: one `pka serve` worker on 127.0.0.1, "
            f"embedding backend `{backend}` ({health['embedding_model']}), {health['documents']} documents, "
            f"{health['chunks']} chunks; client and server on the same machine ({os.cpu_count()} CPUs, "
            f"{platform.system()} {platform.machine()}, Python {platform.python_version()}).",
            f"Up to {args.requests} requests per row, {args.time_cap:g} s cap per row; latencies are of successful "
            "requests, client-side.",
            "",
            table(cells),
            "",
        ]
    )
    print(md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md)
    return 1 if any(c.errors for c in cells) else 0


if __name__ == "__main__":
    sys.exit(main())
