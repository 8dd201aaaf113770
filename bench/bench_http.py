"""End-to-end HTTP benchmarks against a running artsite (web + warm Celery worker + services).

    python bench/bench_http.py --base-url http://127.0.0.1:8000 [--uploads 50] [--seconds 10] [--clients 8]

1. Upload → results ready: N uploads of real catalogue paintings through the REST API, one after
   another; each is timed from the POST until GET /api/uploads/{id}/ says done (polled every 20 ms).
2. Results page and history page throughput: a closed-loop load generator (keep-alive connections)
   requests the signed-in pages for `--seconds` each: `wrk` when installed (apt-get install wrk),
   else a Python one with `--clients` threads (which itself takes a good part of the 2 cores).

A throw-away user is created through the API's sign-up page equivalent (manage.py is not needed):
pass --username/--password of an existing user, or let the script create `bench-<random>` via the
sign-up form. Only 127.0.0.1 is accepted as a target.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import shutil
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
IMAGES = sorted((ROOT / "demo" / "catalogue" / "images").glob("*.jpg"))


class Client:
    """A tiny keep-alive HTTP client with a cookie jar (stdlib only, so the load is cheap to make)."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        if parts.hostname not in {"127.0.0.1", "localhost"}:
            raise SystemExit("only local servers are benchmarked")
        self.host, self.port = parts.hostname, parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                if attempt:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def form_post(self, path: str, fields: dict[str, str]) -> int:
        self.request("GET", path)
        fields = {**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        body = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
        status, _ = self.request(
            "POST",
            path,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{self.host}:{self.port}{path}"},
        )
        return status


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def sign_in(base: str, username: str | None, password: str | None) -> Client:
    client = Client(base)
    if not username:
        username, password = f"bench-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        status = client.form_post(
            "/accounts/signup/",
            {"username": username, "email": f"{username}%40example.com", "password1": password, "password2": password},
        )
        assert status in (200, 302), f"sign-up failed: {status}"
    # A fresh connection without the session cookie: with one, DRF would demand a CSRF token.
    status, data = Client(base).request(
        "POST",
        "/api/auth/token/",
        json.dumps({"username": username, "password": password}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 200, data
    client.token = json.loads(data)["token"]
    client.form_post("/accounts/login/", {"username": username, "password": password})
    return client


def bench_uploads(client: Client, n: int) -> list[int]:
    latencies, ids = [], []
    rng = random.Random(1)
    for i in range(n):
        image = rng.choice(IMAGES)
        body, ctype = multipart("image", image.name, image.read_bytes())
        started = time.perf_counter()
        status, data = client.request("POST", "/api/uploads/", body, {"Content-Type": ctype})
        assert status == 202, (status, data[:300])
        upload_id = json.loads(data)["id"]
        while True:
            status, data = client.request("GET", f"/api/uploads/{upload_id}/")
            state = json.loads(data)["status"]
            if state in {"done", "failed"}:
                break
            time.sleep(0.02)
        latencies.append(time.perf_counter() - started)
        assert state == "done", data[:300]
        ids.append(upload_id)
        if i == 0:
            print(f"  first upload (may include worker warm-up): {latencies[0] * 1000:.0f} ms")
    steady = latencies[1:] or latencies
    print(
        f"upload → results ready, {len(steady)} uploads: p50 {statistics.median(steady) * 1000:.0f} ms, "
        f"p95 {pct(steady, 0.95) * 1000:.0f} ms, max {max(steady) * 1000:.0f} ms"
    )
    return ids


def run_clients(clients: int, run: Callable[[int], None]) -> float:
    """Run `run(i)` in `clients` threads at once; the seconds until the last one ends."""
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def bench_page(base: str, template: Client, path: str, seconds: float, clients: int) -> None:
    counts, latencies, errors = [0] * clients, [], [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def run(i: int) -> None:
        c = Client(base)
        c.cookies = dict(template.cookies)
        local = []
        while time.perf_counter() < stop:
            t = time.perf_counter()
            status, _ = c.request("GET", path)
            local.append(time.perf_counter() - t)
            if status != 200:
                errors[0] += 1
            counts[i] += 1
        with lock:
            latencies.extend(local)

    elapsed = run_clients(clients, run)
    print(
        f"{path}: {sum(counts) / elapsed:.0f} requests/s over {elapsed:.1f} s with {clients} clients, "
        f"p50 {statistics.median(latencies) * 1000:.1f} ms, p95 {pct(latencies, 0.95) * 1000:.1f} ms, "
        f"non-200: {errors[0]}"
    )


def bench_page_wrk(base: str, template: Client, path: str, seconds: float, clients: int) -> None:
    """The same measurement with wrk (C, Debian package `wrk`): the generator takes far less CPU."""
    cookie = "; ".join(f"{k}={v}" for k, v in template.cookies.items())
    out = subprocess.run(
        ["wrk", "-t2", f"-c{clients}", f"-d{int(seconds)}s", "--latency", "-H", f"Cookie: {cookie}", base + path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    print(
        f"{path}: {float(rps):.0f} requests/s (wrk, {clients} connections, {seconds:.0f} s), p50 {p50}, p99 {p99}, "
        f"non-2xx: {non2xx.group(1) if non2xx else 0}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--uploads", type=int, default=51)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator even if wrk exists")
    args = parser.parse_args()

    client = sign_in(args.base_url, args.username, args.password)
    ids = bench_uploads(client, args.uploads)
    page = f"/uploads/{ids[-1]}/"
    status, html = client.request("GET", page)
    assert status == 200 and re.search(rb"Similar works", html), "results page did not render"
    run = bench_page_wrk if shutil.which("wrk") and not args.python_load else bench_page
    run(args.base_url, client, page, args.seconds, args.clients)
    run(args.base_url, client, "/history/", args.seconds, args.clients)


if __name__ == "__main__":
    main()
