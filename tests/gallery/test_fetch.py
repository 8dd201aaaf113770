"""Image download by URL: public addresses only, re-checked on redirects, size capped.

A local HTTP server on 127.0.0.1 stands in for a public host: the tests allow 127.0.0.0/8
explicitly, so every other check stays exactly as in production.
"""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
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
