"""The catalogue map: data size and time, page load and frame times in Chromium, placing an upload.

    DATABASE_URL=... ARTSITE_MEDIA_ROOT=... python bench/bench_map.py [--frames 60] [--placements 100]

Needs a database with a built map (`manage.py build_catalogue_map`; its own output gives the layout
time). Starts `manage.py runserver` on a free port against that database, then:

(i) GET /api/map/: bytes, cold (cache cleared) and warm times.
(ii) Chromium (Debian's, through Playwright, 1280×900): /map/ until the first frame with every
point is drawn (the page records fetch and first-draw times), then ``--frames`` redraws while
zooming in step by step from the whole map to 40× (thumbnails) (p50 / p95 / max ms per frame; 16.7 ms is
one frame at 60 Hz).
Screenshots of the whole map and of the last zoom step go to test-artifacts/screenshots/bench-map-*.png.
(iii) ``--placements`` uploads placed among their nearest works (recommender.map_read.upload_position,
what the map page does for `?upload=`), with catalogue embeddings as stand-ins: p50 / p95 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--placements", type=int, default=100)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.cache import cache

    from gallery.models import Artwork
    from recommender.map_read import map_layout_current, upload_position

    layout = map_layout_current()
    if layout is None:
        sys.exit("no map of the active model: run manage.py build_catalogue_map")
    print(f"layout: {layout.point_count} works, {layout.method}, computed in {layout.seconds:.1f} s")

    port = free_port()
    # DEBUG on: runserver then serves the static files (the script) without collectstatic.
    env = {**os.environ, "DJANGO_DEBUG": "1"}
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--nothreading"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/styles/", timeout=2).read()
                break
            except OSError:
                time.sleep(0.2)
        cache.clear()
        started = time.perf_counter()
        body = urllib.request.urlopen(base + "/api/map/", timeout=60).read()
        cold = (time.perf_counter() - started) * 1000
        warm = []
        for _ in range(10):
            started = time.perf_counter()
            urllib.request.urlopen(base + "/api/map/", timeout=60).read()
            warm.append((time.perf_counter() - started) * 1000)
        print(
            f"/api/map/: {len(body) / 1024:.0f} KiB; cold {cold:.0f} ms, warm p50 {pct(warm, 0.5):.0f} ms "
            "(runserver, no compression)"
        )

        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            loads = []
            for _ in range(3):
                started = time.perf_counter()
                page.goto(base + "/map/")
                page.wait_for_selector("[data-map][data-ready=true]", timeout=60_000)
                wall = (time.perf_counter() - started) * 1000
                stats = page.evaluate("window.artsiteMap.stats")
                loads.append((wall, stats["fetchMs"], stats["firstDrawMs"], stats["points"]))
            for wall, fetch_ms, first_ms, points in loads:
                print(
                    f"map page: {points} points; data fetched {fetch_ms:.0f} ms and first frame drawn "
                    f"{first_ms:.0f} ms after the script started; navigation to first frame {wall:.0f} ms"
                )
            page.screenshot(path=str(REPO / "test-artifacts" / "screenshots" / "bench-map-whole.png"))
            frames = page.evaluate(
                """(n) => {
                    const m = window.artsiteMap, out = [];
                    const c = document.querySelector('.map-canvas').getBoundingClientRect();
                    for (let i = 0; i < n; i++) {
                        m.zoomAt(Math.pow(40, 1 / n), c.width / 2 + 40, c.height / 2 + 30);  // to 40x
                        out.push(m.redraw());
                    }
                    return out;
                }""",
                args.frames,
            )
            shots = REPO / "test-artifacts" / "screenshots"
            shots.mkdir(parents=True, exist_ok=True)
            page.wait_for_timeout(2000)  # thumbnails load lazily
            page.screenshot(path=str(shots / "bench-map-zoomed.png"))
            print(
                f"redraw while zooming in ({len(frames)} frames, whole map to thumbnails): "
                f"p50 {pct(frames, 0.5):.1f} ms, p95 {pct(frames, 0.95):.1f} ms, max {max(frames):.1f} ms"
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    vectors = list(
        Artwork.objects.filter(embedding_version=layout.model_version, embedding__isnull=False).values_list(
            "embedding", flat=True
        )[:2000]
    )
    sample = random.Random(1).sample(vectors, min(args.placements, len(vectors)))
    upload_position(embedding=sample[0], layout=layout)
    times = []
    for vector in sample:
        started = time.perf_counter()
        upload_position(embedding=vector, layout=layout)
        times.append((time.perf_counter() - started) * 1000)
    print(f"placing an upload ({len(times)}): p50 {pct(times, 0.5):.1f} ms, p95 {pct(times, 0.95):.1f} ms")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
