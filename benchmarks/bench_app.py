"""The app under load, on loopback: cold start, then 1, 8 and 32 concurrent gradio_client users.

    python benchmarks/bench_app.py [--requests 2000] [--model FOLDER] [--ready-only]

Prints cold start to ready (offline, and with a Hub that accepts connections and never answers),
/predict round-trip p50/p95/p99 and throughput per concurrency, errors (there must be none), and
the server's resident memory before, at the end of the load and once it has fallen back to one
user.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def silent_hub() -> tuple[socket.socket, str]:
    """A Hub that accepts connections and never answers: a listening socket nobody reads."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def start_app(model: str | None, hub: str | None = None) -> tuple[subprocess.Popen, str, float]:
    """The app offline, or with `hub` as HF_ENDPOINT and an empty Hub cache."""
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "OBS_FEEDBACK_DIR": tempfile.mkdtemp(),
    }
    if model:
        env["OBS_MODEL"] = model
    if hub:
        del env["HF_HUB_OFFLINE"]
        env.update(HF_ENDPOINT=hub, HF_HOME=tempfile.mkdtemp())
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - t0 < 120:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return proc, url, time.perf_counter() - t0
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the app did not start within 120 s")


def glyph_png() -> str:
    """A pen-drawn seed test glyph as a PNG file, like a Sketchpad export."""
    from datasets import load_from_disk

    image = load_from_disk(str(ROOT / "build" / "dataset"))["test"][0]["image"]
    path = Path(tempfile.mkdtemp()) / "glyph.png"
    image.save(path)
    return str(path)


def run(url: str, users: int, total: int, png: str) -> dict:
    from gradio_client import Client, handle_file

    clients = [Client(url, verbose=False) for _ in range(users)]
    errors, times = 0, []

    def one(i: int) -> None:
        nonlocal errors
        t = time.perf_counter()
        try:
            clients[i % users].predict(handle_file(png), api_name="/predict")
            times.append(time.perf_counter() - t)
        except Exception:
            errors += 1

    t0 = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(one, range(total)))
    wall = time.perf_counter() - t0
    q = statistics.quantiles(times, n=100) if len(times) > 1 else [float("nan")] * 99
    return {
        "users": users,
        "requests": total,
        "errors": errors,
        "per_s": len(times) / wall,
        "p50": 1000 * q[49],
        "p95": 1000 * q[94],
        "p99": 1000 * q[98],
    }


def ready_with_a_silent_hub() -> None:
    """Cold start when OBS_MODEL names a Hub repo and the Hub never answers."""
    from gradio_client import Client

    sock, hub = silent_hub()
    proc, url, ready = start_app(None, hub)
    try:
        status = Client(url, verbose=False).predict(api_name="/model")
        print(
            f"cold start to ready with a Hub that never answers: {ready:.1f} s "
            f"(answering: {status['model']}; Hub model still loading: {status['loading']})"
        )
    finally:
        proc.terminate()
        proc.wait(10)
        sock.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000, help="spread over the three levels")
    parser.add_argument("--model", help="model folder (default: the app's own resolution)")
    parser.add_argument("--ready-only", action="store_true", help="cold starts only, no load")
    args = parser.parse_args()
    ready_with_a_silent_hub()
    proc, url, cold = start_app(args.model)
    if args.ready_only:
        proc.terminate()
        proc.wait(10)
        print(f"cold start to ready (offline): {cold:.1f} s")
        return
    try:
        png = glyph_png()
        shares = {1: 0.1, 8: 0.3, 32: 0.6}
        for users in shares:  # warm-up: one-time allocations (worker threads) at each level
            run(url, users, 4 * users, png)
        before = rss_mb(proc.pid)
        print(f"cold start to ready: {cold:.1f} s   resident memory after warm-up: {before:.0f} MB")
        print("users  requests  errors  req/s   p50 ms  p95 ms  p99 ms  RSS MB")
        for users, share in shares.items():
            r = run(url, users, max(users, int(args.requests * share)), png)
            print(
                f"{r['users']:>5}  {r['requests']:>8}  {r['errors']:>6}  {r['per_s']:6.1f} "
                f"{r['p50']:7.0f} {r['p95']:7.0f} {r['p99']:7.0f} {rss_mb(proc.pid):7.0f}"
            )
        peak = rss_mb(proc.pid)
        # Under 32 users the allocators' high-water mark rises; once the load falls back to one
        # user, memory that was freed is handed back. What remains after that is a leak, if any.
        run(url, 1, 100, png)
        after = rss_mb(proc.pid)
        print(
            f"resident memory: {before:.0f} MB -> {peak:.0f} MB at the end of the load "
            f"({peak - before:+.0f} MB) -> {after:.0f} MB after 100 more requests from one user "
            f"({after - before:+.0f} MB)"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
