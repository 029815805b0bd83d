"""Benchmark of the embedded dev server, in one run. Prints; never asserts.

    .venv/bin/python bench/devserver.py [--tokens 100000] [--seconds 3]

The server runs in its own process (``python -m renewer.devserver``), as it
does for subprocess tests. Figures, each with its baseline and the ratio:

* creating N tokens (4 client processes, one keep-alive connection each);
* ``LIST auth/token/accessors`` of all of them: wall time and bytes;
* ``lookup-self`` rate: raw ``http.client`` and hvac clients, sequential and
  with thread pools of 4 and 8, plus two client processes of 4 threads (the
  closest we get to the server's own saturation on a 2-core machine, where
  clients and server share the CPUs);
* the server process's resident memory before and after.

Baselines: the issue's targets (LIST well under 1 s, >= 1,000 lookups/s from
one client), and, measured in the same run, a trivial WSGI app on waitress
answering ``{}`` to the same clients: the ceiling the HTTP stack and the
client leave for any server on this machine (the ratio is our share of it).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hvac
import requests

ROOT = "bench-root"
TARGETS = {"list_seconds": 1.0, "one_client_rps": 1000.0}
TRIVIAL_APP = """
import sys
from waitress.server import create_server

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]

create_server(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8).run()
"""
Call = Callable[[], object]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    port: int, *, trivial: bool = False, dev_controls: bool = False
) -> subprocess.Popen[bytes]:
    """The dev server (or the trivial baseline app) in its own process, once healthy."""
    if trivial:
        argv = [sys.executable, "-c", TRIVIAL_APP, str(port)]
    else:
        argv = [sys.executable, "-m", "renewer.devserver", "--listen", f"127.0.0.1:{port}"]
        argv += ["--root-token", ROOT, *(["--dev-controls"] if dev_controls else [])]
    process = subprocess.Popen(
        argv,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/v1/sys/health", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("server did not start")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Raw:
    """One keep-alive connection speaking raw http.client."""

    def __init__(self, port: int, token: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"X-Vault-Token": token, "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, object] | None = None) -> bytes:
        payload = json.dumps(body).encode() if body is not None else None
        try:
            self.connection.request(method, f"/v1/{path}", body=payload, headers=self.headers)
            response = self.connection.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closes an idle keep-alive connection (waitress: 120 s); reconnect once.
            self.connection.close()
            self.connection.connect()
            self.connection.request(method, f"/v1/{path}", body=payload, headers=self.headers)
            response = self.connection.getresponse()
        data = response.read()
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
        return data


def _create_batch(args: tuple[int, int]) -> None:
    port, share = args
    raw = Raw(port, ROOT)
    for _ in range(share):
        raw.call("POST", "auth/token/create", {"policies": ["default"], "ttl": "24h"})


def create_tokens(port: int, count: int, workers: int = 4) -> float:
    """Create *count* tokens from *workers* client processes; returns seconds."""
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_create_batch, [(port, share) for share in shares])
    return time.perf_counter() - started


def rate(make_call: Callable[[], Call], threads: int, seconds: float) -> float:
    """Calls per second over *seconds*, each thread with its own client."""
    deadline = time.perf_counter() + seconds

    def worker(_: int) -> int:
        call = make_call()
        done = 0
        while time.perf_counter() < deadline:
            call()
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(worker, range(threads)))
    return total / (time.perf_counter() - started)


def raw_lookup(port: int, token: str) -> Callable[[], Call]:
    def make() -> Call:
        raw = Raw(port, token)
        return lambda: raw.call("GET", "auth/token/lookup-self")

    return make


def hvac_lookup(port: int, token: str) -> Callable[[], Call]:
    def make() -> Call:
        client = hvac.Client(url=f"http://127.0.0.1:{port}", token=token, timeout=60)
        lookup: Call = client.auth.token.lookup_self
        return lookup

    return make


def _process_worker(args: tuple[int, str, int, float]) -> float:
    port, token, threads, seconds = args
    return rate(raw_lookup(port, token), threads, seconds)


def lookup_rates(port: int, token: str, seconds: float) -> dict[str, float]:
    """Requests per second per client configuration against the server on *port*."""
    rates = {}
    for threads in (1, 4, 8):
        label = f"raw http.client, {threads} thread(s)"
        rates[label] = rate(raw_lookup(port, token), threads, seconds)
    for threads in (1, 4, 8):
        rates[f"hvac, {threads} thread(s)"] = rate(hvac_lookup(port, token), threads, seconds)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        per_process = pool.map(_process_worker, [(port, token, 4, seconds)] * 2)
    rates["saturation: 2 processes x 4 raw threads"] = sum(per_process)
    return rates


def line(
    label: str, value: float, unit: str, baseline: float | None = None, note: str = ""
) -> None:
    text = f"  {label:<42} {value:>9.1f} {unit:<6}"
    if baseline:
        text += f" baseline {baseline:>8.1f} {note:<15} ratio {value / baseline:5.2f}"
    print(text, flush=True)


def bench_store(port: int, pid: int, count: int) -> None:
    rss_before = rss_mib(pid)
    created = create_tokens(port, count)
    print(f"tokens: {count}")
    line("create (4 client processes)", created, "s")
    line("create rate", count / created, "tok/s")
    started = time.perf_counter()
    body = Raw(port, ROOT).call("LIST", "auth/token/accessors")
    listed = time.perf_counter() - started
    keys = len(json.loads(body)["data"]["keys"])
    print(f"LIST auth/token/accessors: {keys} keys, {len(body) / 1e6:.2f} MB")
    line("LIST wall time", listed, "s", TARGETS["list_seconds"], "(target, max)")
    rss_after = rss_mib(pid)
    line("server RSS at start", rss_before, "MiB")
    line(f"server RSS with {keys} tokens", rss_after, "MiB")
    line("RSS per token", (rss_after - rss_before) * 1024 / max(keys, 1), "KiB")


def bench_lookups(port: int, seconds: float, baseline: dict[str, float]) -> None:
    reply = Raw(port, ROOT).call("POST", "auth/token/create", {"policies": ["default"]})
    token = json.loads(reply)["auth"]["client_token"]
    print(f"lookup-self with a default-policy token, {seconds:.0f} s per run; baseline:")
    print("  the same client against a trivial waitress app answering {}")
    for label, value in lookup_rates(port, token, seconds).items():
        line(label, value, "req/s", baseline[label], "(trivial app)")
    one = rate(raw_lookup(port, token), 1, seconds)
    line(
        "raw http.client, 1 thread, vs target", one, "req/s", TARGETS["one_client_rps"], "(target)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the renewer dev server.")
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of each rate run")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}", flush=True)

    trivial_port = free_port()
    trivial = start_server(trivial_port, trivial=True)
    try:
        baseline = lookup_rates(trivial_port, ROOT, args.seconds)
    finally:
        stop_server(trivial)

    port = free_port()
    server = start_server(port)
    try:
        bench_store(port, server.pid, args.tokens)
        bench_lookups(port, args.seconds, baseline)
    finally:
        stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
