#!/usr/bin/env python3
"""Work-queue benchmark (issue 15): generated estates of about 50k, 500k and 2.5M
events on SQLite, the release binary serving them, and the work-queue API asked at
10 and 50 connections. Prints one Markdown table row per size (BENCHMARKS.md).

    cargo build --release -p throughcare
    python3 bench/queues.py [--sizes 50000,500000,2500000] [--dir /tmp/throughcare-bench]

The estates are generated once per directory and kept (the largest is several
hundred MB); delete the directory to start again. Never run in the test suite.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "throughcare")
PASSWORD = "bench-password-2026-long"
# The generator's events per person, measured: sizes are asked in events.
EVENTS_PER_PERSON = 17.8


def run(db, *args, stdin=None):
    return subprocess.run(
        [BIN, "--database", db, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    )


def estate(directory, events):
    """The database for a size, generated if missing: (path, {events, seconds})."""
    db = os.path.join(directory, f"estate-{events}.sqlite")
    meta = db + ".json"
    if os.path.exists(db) and os.path.exists(meta):
        with open(meta) as f:
            return db, json.load(f)
    for stale in (db, db + "-wal", db + "-shm"):
        if os.path.exists(stale):
            os.remove(stale)
    people = max(1, int(events / EVENTS_PER_PERSON))
    started = time.monotonic()
    out = run(db, "generate", "--people", str(people), "--years", "5", "--seed", "1")
    took = time.monotonic() - started
    run(
        db,
        "user",
        "add",
        "bench.manager",
        "--role",
        "manager",
        "--establishments",
        "MDI",
        "--name",
        "Bench manager",
        stdin=PASSWORD + "\n",
    )
    print(out.stdout.strip(), file=sys.stderr)
    # "Generated P people, E events (0 refused) in S s."
    made = int(out.stdout.split(" people, ")[1].split(" events")[0])
    info = {"events": made, "seconds": took}
    with open(meta, "w") as f:
        json.dump(info, f)
    return db, info


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(url, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body else "GET")
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()


def load(url, token, connections, total):
    """`total` requests over `connections` threads: (latencies in ms, seconds)."""
    latencies = []
    lock = threading.Lock()
    per = total // connections

    def worker():
        for _ in range(per):
            t = time.monotonic()
            status, _ = request(url, token)
            assert status == 200, status
            with lock:
                latencies.append((time.monotonic() - t) * 1000)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.monotonic() - started


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def measure(db):
    port = free_port()
    server = subprocess.Popen(
        [BIN, "--database", db, "serve", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                request(base + "/ping")
                break
            except OSError:
                time.sleep(0.05)
        _, body = request(
            base + "/api/v1/session",
            body={"username": "bench.manager", "password": PASSWORD},
        )
        token = json.loads(body)["token"]
        url = base + "/api/v1/queues/work"
        _, body = request(url, token)
        items = json.loads(body)["total"]
        load(url, token, 4, 20)  # warm the page cache
        rows = {}
        for c in (10, 50):
            lat, secs = load(url, token, c, 300)
            rows[c] = (statistics.median(lat), pct(lat, 99), len(lat) / secs)
        with open(f"/proc/{server.pid}/status") as f:
            rss = next(l for l in f if l.startswith("VmHWM")).split()[1]
        return items, rows, int(rss) // 1024
    finally:
        server.terminate()
        server.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50000,500000,2500000")
    ap.add_argument("--dir", default="/tmp/throughcare-bench")
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    print("| events | generate (events/s) | DB size | MDI queue items | p50 / p99 @10 | req/s @10 | p50 / p99 @50 | req/s @50 | serving peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in [int(s) for s in a.sizes.split(",")]:
        db, info = estate(a.dir, size)
        events = info["events"]
        rate = f"{events / info['seconds']:,.0f}"
        items, rows, rss = measure(db)
        mb = os.path.getsize(db) / 1e6
        r10, r50 = rows[10], rows[50]
        print(
            f"| {events:,} | {rate} | {mb:,.0f} MB | {items:,} | {r10[0]:.0f} / {r10[1]:.0f} ms | {r10[2]:.0f} "
            f"| {r50[0]:.0f} / {r50[1]:.0f} ms | {r50[2]:.0f} | {rss} MB |",
            flush=True,
        )


if __name__ == "__main__":
    main()
