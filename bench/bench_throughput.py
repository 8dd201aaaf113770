"""Upload throughput of a running artsite (web + Celery worker + services) under concurrent clients.

    bash bench/site.sh &      # a throw-away site on :8010 (own database, media, broker db; throttle raised)
    python bench/bench_throughput.py --base-url http://127.0.0.1:8010 [--clients 20] [--uploads 100]
                                     [--poll-ms 250] [--worker-log .run/bench-celery.log]

Each client reads GET /api/uploads/{id}/?wait=10, which the server answers with the results once
the upload is finished (`--wait-s 0`: polls of GET /api/uploads/{id}/status/ every `--poll-ms`,
then the upload once it is done), as the API docs advise. Upload to results is measured from sending the POST to the
`finished_at` the worker wrote (the client and the server share this machine's clock), so it does
not depend on the polling interval; the interval only decides when a client notices and sends its
next upload.

1. A single upload on an idle worker: after one warm-up upload, `--single` uploads one after another
   (a catalogue painting each, read with `?wait=`, or polled every 20 ms with `--wait-s 0`).
2. `--clients` concurrent clients, each uploading and waiting for its results before the next, send
   `--uploads` images in all, mixed sizes (96 px thumbnails, 224 px, 800 px, 2,000 px and ~6 MB
   4,000 px photos, the same mix each run): uploads per second over the whole run and p50/p95
   upload-to-results.
3. CPU time per upload during step 2, by process group (gunicorn, Celery, the PostgreSQL backends
   of `--pg-database`, Redis), read from /proc: where the two cores go.
4. With `--worker-log`, the analysis batch sizes the worker logged during the run
   ("analysing N uploads in one batch"; a batch of one logs nothing), and the floor: the CPU the
   worker logged for decoding (and framing) and for the forward pass, per upload, with the CPU per
   upload of the worker and of all processes as a multiple of it (issue 19's "ratio to the floor").

bench/site.sh starts the site as `make run` does (gunicorn 2 × 4 threads, one Celery worker) with
the upload throttle raised (the default 60/hour per user stops the run); compare batching on and
off by starting it with ARTSITE_ANALYSE_BATCH_MAX=1. Signs in like bench/bench_http.py (a
throw-away `bench-<random>` user unless --username/--password). Only 127.0.0.1 is accepted as a
target.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import threading
import time
from datetime import datetime
from pathlib import Path

from bench_http import IMAGES, Client, multipart, pct, run_clients, sign_in
from PIL import Image

SIZES = [96, 224, 800, 2000, 4000]  # longest side; the last ones are phone-photo sized


def _photo(path: Path, side: int) -> bytes:
    """A catalogue painting at `side` px on its longest side; the largest get sensor-like noise and
    quality 95, so they weigh what a phone photo does (~6 MB at 4,000 px)."""
    import numpy as np

    with Image.open(path) as img:
        img = img.convert("RGB")
        scale = side / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BICUBIC)
    if side >= 2000:
        rng = np.random.default_rng(side)
        noisy = np.asarray(img, np.int16) + rng.integers(-10, 11, (img.height, img.width, 3), dtype=np.int16)
        img = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=95 if side >= 2000 else 88)
    return out.getvalue()


STATUS_REQUESTS: list[int] = []  # GET requests per upload (status polls and the results), concurrent step


def upload_and_wait(client: Client, name: str, data: bytes, poll_s: float, wait_s: float = 0) -> float:
    """Seconds from sending the POST until the worker stored the results.

    The end is the upload's `finished_at` as the server wrote it (client and server share this
    machine's clock), so the number does not depend on how often the client polls; polling only
    decides when the client notices and sends its next upload. With `wait_s`, the client reads the
    upload with `?wait=`, which the server answers once it is finished (at most one request per
    `poll_s` when the server answers before, its waiting slots being full).
    """
    body, ctype = multipart("image", name, data)
    started = time.time()
    status, reply = client.request("POST", "/api/uploads/", body, {"Content-Type": ctype})
    assert status == 202, (status, reply[:300])
    upload_id = json.loads(reply)["id"]
    # With wait_s, the upload itself, which answers with its results once they are there (as the API
    # docs advise right after sending one); else the cheap status endpoint, then the results once.
    path = f"/api/uploads/{upload_id}/?wait={wait_s:g}" if wait_s else f"/api/uploads/{upload_id}/status/"
    asked = 0
    while True:
        sent = time.monotonic()
        status, reply = client.request("GET", path)
        asked += 1
        upload = json.loads(reply)
        if upload["status"] in {"done", "failed"}:
            break
        time.sleep(max(0.0, poll_s - (time.monotonic() - sent)))
    assert upload["status"] == "done", reply[:300]
    if not wait_s:
        status, reply = client.request("GET", f"/api/uploads/{upload_id}/")
        asked += 1
    assert status == 200 and json.loads(reply)["matches"], reply[:300]
    STATUS_REQUESTS.append(asked)
    return datetime.fromisoformat(upload["finished_at"]).timestamp() - started


def bench_single(client: Client, n: int, wait_s: float) -> None:
    painting = IMAGES[0].read_bytes()
    warm = upload_and_wait(client, "warm-up.jpg", painting, 0.02, wait_s)
    if n < 1:
        return
    times = [upload_and_wait(client, f"single-{i}.jpg", IMAGES[1 + i].read_bytes(), 0.02, wait_s) for i in range(n)]
    print(
        f"single upload on an idle worker ({n} in a row, warm-up {warm * 1000:.0f} ms): "
        f"p50 {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms"
    )


def bench_concurrent(
    template: Client, base: str, clients: int, total: int, poll_s: float, sizes: list[int], wait_s: float
) -> None:
    images = [(f"{side}px-{i}.jpg", _photo(IMAGES[i % len(IMAGES)], side)) for i, side in enumerate(sizes * 4)]
    big = max(len(data) for _, data in images) / 2**20
    latencies: list[float] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def run(_: int) -> None:
        c = Client(base)
        c.token = template.token
        for i in counter:  # shared iterator: next() on a range iterator is atomic under the GIL
            name, data = images[i % len(images)]
            took = upload_and_wait(c, name, data, poll_s, wait_s)
            with lock:
                latencies.append(took)

    elapsed = run_clients(clients, run)
    how = f"?wait={wait_s:g}" if wait_s else "plain polls"
    print(
        f"{clients} clients, {len(latencies)} uploads (sizes {sizes} px, largest {big:.1f} MB): "
        f"{len(latencies) / elapsed:.1f} uploads/s over {elapsed:.1f} s; upload → results "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {pct(latencies, 0.95) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms; reads per upload after its POST: "
        f"{statistics.mean(STATUS_REQUESTS[-len(latencies) :]):.1f} ({how})"
    )


GROUPS = {"web (gunicorn)": "gunicorn", "worker (celery)": "celery", "postgres": "postgres", "redis": "redis-server"}


def cpu_seconds(pg_database: str = "") -> dict[str, float]:
    """CPU time (user + system) so far of this machine's live processes, by group (Linux /proc);
    with `pg_database`, only the PostgreSQL backends connected to that database.

    Processes that start and end inside the run (short-lived database backends) are missed, so the
    figures are a lower bound; the site keeps its connections (CONN_MAX_AGE), so little is missed.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(GROUPS, 0.0)
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        for group, needle in GROUPS.items():
            if group == "postgres" and pg_database and f" {pg_database} " not in cmdline:
                continue
            if needle in cmdline:
                totals[group] += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
                break
    return totals


def cpu_report(before: dict[str, float], after: dict[str, float], uploads: int) -> dict[str, float]:
    per = {group: (after[group] - before[group]) / uploads * 1000 for group in GROUPS}
    parts = ", ".join(f"{group} {ms:.0f}" for group, ms in per.items())
    total = sum(per.values())
    print(f"CPU per upload (ms, all processes on this machine by group): {parts}; total {total:.0f}")
    return {"worker": per["worker (celery)"], "all": total}


def worker_log(log: Path, offset: int) -> str:
    with log.open("rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


def floor_report(text: str, cpu: dict[str, float] | None) -> None:
    """The floor of the run: the decode (and framing) and forward pass the worker logged for each
    batch, as CPU per upload, and what each process group spent per upload as a multiple of it."""
    batches = re.findall(r"analysed (\d+) uploads: decode and frame ([\d.]+) ms, forward pass ([\d.]+) ms", text)
    if not batches:
        print("worker: no timing lines in the log (an older worker?)")
        return
    uploads = sum(int(n) for n, _, _ in batches)
    decode = sum(float(d) for _, d, _ in batches) / uploads
    forward = sum(float(f) for _, _, f in batches) / uploads
    floor = decode + forward
    line = f"floor per upload (CPU, worker log): decode and frame {decode:.1f} ms + forward pass {forward:.1f} ms"
    if cpu:
        line += "; " + ", ".join(f"{group} {ms / floor:.1f}×" for group, ms in cpu.items()) + " the floor"
    print(line)


def batch_sizes(text: str) -> None:
    sizes = [int(n) for n in re.findall(r"analysing (\d+) uploads in one batch", text)]
    analysed = len(re.findall(r"analyse_upload\[[^\]]+\] succeeded", text))
    if sizes:
        print(
            f"worker: {len(sizes)} batches of 2+ (mean {statistics.mean(sizes):.1f}, max {max(sizes)}) "
            f"among {analysed} analyse messages"
        )
    else:
        print(f"worker: no batch of 2+ among {analysed} analyse messages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=100)
    parser.add_argument("--single", type=int, default=5)
    parser.add_argument("--worker-log", type=Path, default=None)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument(
        "--poll-ms", type=int, default=250, help="how often a client asks if its upload is done (the page: 700)"
    )
    parser.add_argument(
        "--wait-s",
        type=float,
        default=10,
        help="status requests wait on the server this long for the upload to finish (0: plain polls)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=SIZES, help="longest sides of the mix")
    parser.add_argument(
        "--pg-database", default="bench_site", help="count only PostgreSQL backends of this database ('': all)"
    )
    args = parser.parse_args()

    client = sign_in(args.base_url, args.username, args.password)
    bench_single(client, args.single, args.wait_s)
    offset = args.worker_log.stat().st_size if args.worker_log else 0
    before = cpu_seconds(args.pg_database) if Path("/proc/self/stat").exists() else None
    bench_concurrent(client, args.base_url, args.clients, args.uploads, args.poll_ms / 1000, args.sizes, args.wait_s)
    cpu = cpu_report(before, cpu_seconds(args.pg_database), args.uploads) if before is not None else None
    if args.worker_log:
        text = worker_log(args.worker_log, offset)
        batch_sizes(text)
        floor_report(text, cpu)


if __name__ == "__main__":
    main()
