"""Load with an ingest in the middle (issue 14 §1): `pka serve` under mixed /ask and /search load while a CLI
`pka ingest` in another process adds a new file to the same data folder.

Reports errors, req/s and latency over the whole run, how long the ingest took, and when the new document became
answerable (an /ask citing it) counted from the end of the ingest. Bounded, loopback only; writes
bench/results/load-ingest.md.

    .venv/bin/python bench/load_ingest.py [--hashing] [--requests 2000] [--concurrency 32] [--ingest-after 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.load import Cell, _body, workspace  # the same questions and bodies as the plain load test
from testing.servers import api_server, run_cli

ROOT = Path(__file__).resolve().parents[1]

NEW_NAME = "quarzel-crossing-audit.md"
NEW_TEXT = (
    "# Quarzel crossing audit\n\n"
    "The quarzel crossing audit of 2025 found nine unsafe crossings near primary schools. "
    "The partnership agreed a walking-route plan with the schools and the highways team.\n"
)
PROBE = "What did the quarzel crossing audit find?"


async def run(url: str, env: dict[str, str], args: argparse.Namespace) -> dict:
    cell = Cell("/ask + /search", args.concurrency)
    counter = 0
    times: dict[str, float] = {}
    limits = httpx.Limits(max_connections=args.concurrency + 2, max_keepalive_connections=args.concurrency + 2)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            nonlocal counter
            while counter < args.requests and time.monotonic() < deadline:
                i = counter
                counter += 1
                endpoint = "/ask" if i % 2 else "/search"
                t0 = time.perf_counter()
                try:
                    r = await client.post(endpoint, json=_body(endpoint, i // 2))
                    ok, detail = r.status_code == 200, f"{endpoint} {r.status_code} {r.text[:160]}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{endpoint} {type(exc).__name__}: {exc}"
                if ok:
                    cell.latencies_ms.append((time.perf_counter() - t0) * 1000)
                else:
                    cell.errors += 1
                    if len(cell.error_samples) < 5:
                        cell.error_samples.append(detail)

        async def ingest() -> None:
            while counter < args.ingest_after:
                await asyncio.sleep(0.05)
            (Path(env["PKA_KNOWLEDGE_DIR"]) / NEW_NAME).write_text(NEW_TEXT, encoding="utf-8")
            times["ingest_start"] = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "pka_cli", "ingest", cwd=ROOT, env={**os.environ, **env},
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await proc.communicate()
            times["ingest_end"] = time.monotonic()
            times["ingest_rc"] = float(proc.returncode or 0)
            times["ingest_out"] = out.decode(errors="replace").strip()  # type: ignore[assignment]
            if proc.returncode:
                print(err.decode(errors="replace")[-2000:], file=sys.stderr)

        async def probe() -> None:
            while "ingest_end" not in times:
                await asyncio.sleep(0.05)
            while time.monotonic() < times["ingest_end"] + args.probe_cap:
                try:
                    r = await client.post("/ask", json={"question": PROBE})
                    if r.status_code == 200 and any(c["document_id"] == NEW_NAME for c in r.json()["citations"]):
                        times["answerable"] = time.monotonic()
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.25)

        deadline = time.monotonic() + args.time_cap
        start = time.perf_counter()
        tasks = [asyncio.create_task(ingest()), asyncio.create_task(probe())]
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        cell.seconds = time.perf_counter() - start
        await asyncio.gather(*tasks)
    return {"cell": cell, **times}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hashing", action="store_true", help="use the hashing embedder (fast, not realistic)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--ingest-after", type=int, default=500, help="start the ingest after this many requests")
    ap.add_argument("--time-cap", type=float, default=300.0, help="seconds for the whole load, at most")
    ap.add_argument("--probe-cap", type=float, default=60.0, help="seconds after the ingest to wait for the answer")
    ap.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load-ingest.md")
    args = ap.parse_args()
    backend = "hashing" if args.hashing else "sentence-transformers"
    with tempfile.TemporaryDirectory(prefix="pka-load-ingest-") as tmp:
        env = workspace(Path(tmp), args.knowledge, backend)
        if args.hashing:
            # The answer scorer's threshold is fitted on MiniLM similarities; with the hashing stand-in it would
            # abstain on most questions, and this bench measures freshness and errors, not abstention.
            env["PKA_ABSTAIN_THRESHOLD"] = "0"
        result = run_cli(["ingest"], env, timeout=1800)
        if result.returncode not in (0, 1):
            print(result.stdout, result.stderr, file=sys.stderr)
            return 2
        with api_server(env, timeout=300) as url:
            health = httpx.get(f"{url}/health", timeout=30).json()
            for i in range(3):
                httpx.post(f"{url}/ask", json=_body("/ask", i), timeout=120)
                httpx.post(f"{url}/search", json=_body("/search", i), timeout=120)
            got = asyncio.run(run(url, env, args))
            after = httpx.get(f"{url}/health", timeout=30)
    cell: Cell = got["cell"]
    rps = cell.requests / cell.seconds if cell.seconds else 0.0
    ingest_s = got["ingest_end"] - got["ingest_start"]
    answerable = got.get("answerable")
    within = f"{answerable - got['ingest_end']:.2f} s" if answerable else f"not within {args.probe_cap:g} s"
    samples = "\n".join(f"- `{s}`" for s in cell.error_samples) or "- none"
    md = "\n".join(
        [
            "# Load with an ingest in the middle",
            "",
            f"`bench/load_ingest.py` run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: one `pka serve` worker on "
            f"127.0.0.1, embedding backend `{backend}` ({health['embedding_model']}), {health['documents']} "
            f"documents and {health['chunks']} chunks at the start; client, server and the ingest on the same "
            f"machine ({os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python "
            f"{platform.python_version()}). {args.requests} requests, alternately /search and /ask, at concurrency "
            f"{args.concurrency}; after request {args.ingest_after} a new file is dropped into the knowledge folder "
            "and `pka ingest` runs in a second process on the same data folder.",
            "",
            "| requests | errors | req/s | p50 ms | p95 ms | p99 ms | ingest s (rc) | answerable after the ingest |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {cell.requests} | {cell.errors} | {rps:.1f} | {cell.pct(50):.0f} | {cell.pct(95):.0f} | "
            f"{cell.pct(99):.0f} | {ingest_s:.1f} ({got['ingest_rc']:.0f}) | {within} |",
            "",
            f"Ingest output: `{' / '.join(str(got['ingest_out']).splitlines()[:2])}`. /health afterwards: "
            f"{after.status_code}, {after.json().get('documents')} documents.",
            "",
            "Error samples:",
            samples,
            "",
        ]
    )
    print(md)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(md)
    return 1 if cell.errors or not answerable else 0


if __name__ == "__main__":
    sys.exit(main())
