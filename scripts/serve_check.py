"""Helpers for scripts/up.sh (stdlib only).

python scripts/serve_check.py where              -> "API_HOST API_PORT UI_PORT" from the PKA_ settings (.env too)
python scripts/serve_check.py busy HOST PORT...  -> exit 1, naming it, when something already listens on a port
python scripts/serve_check.py wait URL --pid PID [--timeout S] [--field NAME]
    -> waits until URL answers 200 while process PID lives; prints the JSON field NAME of the body if asked.
       Exit 0 when it answered, 3 when PID exited first, 4 on timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request


def where() -> int:
    from core.config import get_settings

    try:
        s = get_settings()
    except ValueError as exc:  # pydantic's ValidationError: a PKA_ setting with a bad value
        print(f"Error: invalid settings: {exc}", file=sys.stderr)
        return 2
    host = "127.0.0.1" if s.api_host in ("", "0.0.0.0", "::") else s.api_host
    print(host, s.api_port, s.ui_port)
    return 0


def busy(host: str, ports: list[int]) -> int:
    for port in ports:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.settimeout(2)
            if s.connect_ex((host, port)) == 0:
                print(f"port {port} on {host} is already in use (another `make up` or `pka serve`?)", file=sys.stderr)
                return 1
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a child that exited but was not reaped yet is a zombie: count it as gone
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait(url: str, pid: int, timeout: float, field: str | None) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the servers are local: no proxy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return 3
        try:
            with opener.open(url, timeout=5) as response:
                body = response.read()
                if response.status == 200:
                    if field:
                        print(json.loads(body).get(field, ""))
                    return 0
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.3)
    return 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("where")
    b = sub.add_parser("busy")
    b.add_argument("host")
    b.add_argument("ports", type=int, nargs="+")
    w = sub.add_parser("wait")
    w.add_argument("url")
    w.add_argument("--pid", type=int, required=True)
    w.add_argument("--timeout", type=float, default=600.0)
    w.add_argument("--field")
    args = parser.parse_args(argv)
    if args.cmd == "where":
        return where()
    if args.cmd == "busy":
        return busy(args.host, args.ports)
    return wait(args.url, args.pid, args.timeout, args.field)


if __name__ == "__main__":
    sys.exit(main())
