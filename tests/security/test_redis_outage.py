"""A Redis outage, for real: a private redis-server is started on a free port for this test, a real
development server (`manage.py runserver`) uses it as cache and broker, then Redis is killed.

Signing in, staying signed in, the upload form and the upload API must go on answering normally: the
session store is PostgreSQL, the cache fails open, the upload throttle fails open with a log line,
and an upload made meanwhile is stored as queued (re-queued when a worker starts). The shared Redis on
6390 is never touched.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from PIL import Image

from gallery.models import Upload

pytestmark = [pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, what: str, timeout: float = 30.0) -> None:
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        try:
            if check():
                return
        except (OSError, requests.RequestException):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} did not come up in {timeout:.0f} s")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen, int]]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed (make services installs it)")
    port = _free_port()
    proc = subprocess.Popen(
        [
            server,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def ping() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    _wait_for(ping, "private redis-server")
    yield proc, port
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def site(private_redis, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """`manage.py runserver` on a free port, on the test database, with the private Redis."""
    _, redis_port = private_redis
    db = connection.settings_dict
    database_url = f"postgresql://{db['USER']}:{db['PASSWORD']}@/{db['NAME']}?host={db['HOST']}"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "artsite.settings.test",  # its password hasher matches the fixtures
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "0",  # no connection left open when the test database is dropped
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/2",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "ARTSITE_MEDIA_ROOT": str(tmp_path / "media"),
        "ARTSITE_UPLOAD_THROTTLE": "100/hour",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: requests.get(f"{base}/accounts/login/", timeout=2).status_code == 200, "runserver")
        yield base, proc, log
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (90, 140, 60)).save(out, format="JPEG")
    return out.getvalue()


def _csrf(session: requests.Session, base: str, path: str) -> str:
    page = session.get(f"{base}{path}", timeout=10)
    assert page.status_code == 200, (path, page.status_code)
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _sign_in(session: requests.Session, base: str) -> None:
    token = _csrf(session, base, "/accounts/login/")
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": "owner", "password": "owner-pass-123", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]


def test_site_keeps_working_while_redis_is_down(private_redis, site, owner) -> None:
    redis_proc, _ = private_redis
    base, server, log = site
    before_outage = requests.Session()
    _sign_in(before_outage, base)  # a session made while Redis was up

    redis_proc.kill()
    redis_proc.wait(timeout=10)
    started = time.monotonic()

    # Someone signed in before the outage stays signed in.
    history = before_outage.get(f"{base}/history/", allow_redirects=False, timeout=10)
    assert history.status_code == 200

    # Signing in during the outage works, and so do the signed-in pages.
    browser = requests.Session()
    _sign_in(browser, base)
    for path in ("/", "/history/", "/upload/", "/artworks/"):
        assert browser.get(f"{base}{path}", allow_redirects=False, timeout=10).status_code == 200, path

    # The upload form stores the painting as queued and says it will be processed shortly.
    token = _csrf(browser, base, "/upload/")
    posted = browser.post(
        f"{base}/upload/",
        data={"csrfmiddlewaretoken": token, "artist": ""},
        files={"image": ("garden.jpg", _jpeg(), "image/jpeg")},
        headers={"Referer": f"{base}/upload/"},
        allow_redirects=False,
        timeout=20,
    )
    assert posted.status_code == 302, posted.text[:1000]
    page = browser.get(f"{base}{posted.headers['Location']}", timeout=10)
    assert page.status_code == 200
    assert "it will be processed shortly" in page.text

    # The API: a token, an upload (throttled scope: the throttle fails open), the list.
    api_token = requests.post(
        f"{base}/api/auth/token/", data={"username": "owner", "password": "owner-pass-123"}, timeout=10
    )
    assert api_token.status_code == 200, api_token.text
    auth = {"Authorization": f"Token {api_token.json()['token']}"}
    created = requests.post(
        f"{base}/api/uploads/", files={"image": ("sea.jpg", _jpeg(), "image/jpeg")}, headers=auth, timeout=20
    )
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "queued"
    assert requests.get(f"{base}/api/uploads/", headers=auth, timeout=10).json()["count"] == 2

    assert time.monotonic() - started < 30  # no request waited on Redis for long
    uploads = Upload.objects.filter(owner=owner)
    assert uploads.count() == 2 and set(uploads.values_list("status", flat=True)) == {Upload.Status.QUEUED}
    assert server.poll() is None
    output = log.read_text()
    assert "upload throttle skipped: the cache (Redis) is unreachable" in output
    assert "Internal Server Error" not in output and not re.search(r'" 5\d\d \d+', output), output
