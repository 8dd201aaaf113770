"""Image download by URL: public addresses only, re-checked on redirects, size capped.

A local HTTP server on 127.0.0.1 stands in for a public host: the tests allow 127.0.0.0/8
explicitly, so every other check stays exactly as in production.
"""

from __future__ import annotations

import io
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from PIL import Image

from gallery.fetch import fetch_image_bytes
from gallery.images import ImageRejected


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "orange").save(out, format="JPEG")
    return out.getvalue()


class Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self) -> None:
        status, headers, body = self.routes.get(self.path, (404, {}, b"missing"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(settings):
    settings.UPLOAD_URL_EXTRA_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    Handler.routes = {
        "/painting.jpg": (200, {"Content-Type": "image/jpeg"}, _jpeg()),
        "/moved": (302, {"Location": "/painting.jpg"}, b""),
        "/inside": (302, {"Location": "http://10.20.30.40/secret.jpg"}, b""),
        "/metadata": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/huge": (200, {"Content-Type": "image/jpeg"}, b"\xff" * 5000),
    }
    yield base
    httpd.shutdown()


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/a.jpg",
        "file:///etc/passwd",
        "http://127.0.0.1/a.jpg",
        "http://localhost:8000/a.jpg",
        "http://10.0.0.1/a.jpg",
        "http://192.168.1.1/a.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/a.jpg",
        "http://224.0.0.1/a.jpg",
        "http://0.0.0.0/a.jpg",
    ],
)
def test_non_public_or_non_http_rejected(url: str) -> None:
    with pytest.raises(ImageRejected):
        fetch_image_bytes(url)


def test_downloads_and_follows_redirect(server: str) -> None:
    data, name = fetch_image_bytes(server + "/moved")
    assert data == _jpeg()
    assert name == "painting.jpg"


@pytest.mark.parametrize("path", ["/inside", "/metadata"])
def test_redirect_to_private_address_rejected(server: str, path: str) -> None:
    with pytest.raises(ImageRejected, match="not a public web address"):
        fetch_image_bytes(server + path)


def test_size_cap_and_http_errors(server: str, settings) -> None:
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(ImageRejected, match="larger than"):
        fetch_image_bytes(server + "/huge")
    with pytest.raises(ImageRejected, match="answered 404"):
        fetch_image_bytes(server + "/nothing-here")


# --- One deadline for the whole download (issue 8, defect 5) ---------------------------------------


class DripHandler(BaseHTTPRequestHandler):
    """A server that answers, but slowly: 2 KB every 0.25 s of a 1 MB image, or headers byte by byte."""

    def do_GET(self) -> None:
        try:
            if self.path == "/slow-headers":
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.1)
                return
            if self.path == "/silent":
                time.sleep(30)  # accepts the connection, never says anything
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            if self.path == "/drip-chunked":
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(1024 * 1024))
            self.end_headers()
            for _ in range(512):
                chunk = b"\xff" * 2048
                if self.path == "/drip-chunked":
                    chunk = b"800\r\n" + chunk + b"\r\n"
                self.wfile.write(chunk)
                self.wfile.flush()
                time.sleep(0.25)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the test wants

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def drip_server(settings):
    settings.UPLOAD_URL_EXTRA_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.UPLOAD_URL_DEADLINE_S = 2
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), DripHandler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path", ["/drip", "/drip-chunked", "/slow-headers", "/silent"])
def test_a_slow_server_is_given_up_on_at_the_deadline(drip_server: str, path: str) -> None:
    started = time.monotonic()
    with pytest.raises(ImageRejected, match=r"did not arrive within 2 seconds"):
        fetch_image_bytes(drip_server + path)
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 2.6, elapsed  # one deadline for the whole download, not per read


@pytest.mark.django_db
def test_a_slow_url_upload_answers_400_in_time_and_stores_nothing(drip_server: str, owner) -> None:
    from pathlib import Path

    from django.conf import settings
    from rest_framework.test import APIClient

    from gallery.models import Upload

    client = APIClient()
    client.force_authenticate(owner)
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    client.get("/api/uploads/")  # the first request imports the API modules: not part of what is timed
    started = time.monotonic()
    response = client.post("/api/uploads/", {"url": drip_server + "/drip"}, format="json")
    assert time.monotonic() - started < 2.6
    assert response.status_code == 400
    assert "did not arrive within 2 seconds" in response.json()["url"][0]
    assert Upload.objects.count() == 0
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == before


@pytest.mark.django_db
def test_slow_downloads_cannot_take_every_web_thread(drip_server: str, owner, client, settings) -> None:
    """With every download slot held by a slow server, one more address is refused at once (503 with
    Retry-After, page and API, nothing stored) instead of taking another thread; the slot comes back."""
    from pathlib import Path

    from rest_framework.test import APIClient

    from gallery.fetch import FetchBusy
    from gallery.models import Upload

    settings.UPLOAD_URL_MAX_CONCURRENT = 1
    before = {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    slow: list[BaseException] = []

    def hold_the_slot() -> None:
        try:
            fetch_image_bytes(drip_server + "/drip")
        except BaseException as exc:  # kept to assert on below
            slow.append(exc)

    holder = threading.Thread(target=hold_the_slot)
    holder.start()
    time.sleep(0.3)  # the drip has started: the slot is taken
    api = APIClient()
    api.force_authenticate(owner)
    started = time.monotonic()
    response = api.post("/api/uploads/", {"url": drip_server + "/drip"}, format="json")
    assert time.monotonic() - started < 0.5  # refused at once, no thread spent waiting
    assert response.status_code == 503 and response["Retry-After"] == str(FetchBusy.retry_after_s)
    assert "Try again in a few seconds" in response.json()["detail"]
    client.force_login(owner)
    page = client.post(reverse("gallery:upload_create"), {"url": drip_server + "/drip"})
    assert page.status_code == 503 and "Try again in a few seconds" in page.content.decode()
    assert Upload.objects.count() == 0
    assert {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()} == before

    holder.join(5)
    assert len(slow) == 1 and "did not arrive" in str(slow[0])
    # The slot is free again: the next address is downloaded (and here refused for being slow).
    response = api.post("/api/uploads/", {"url": drip_server + "/drip"}, format="json")
    assert response.status_code == 400 and "did not arrive" in response.json()["url"][0]
