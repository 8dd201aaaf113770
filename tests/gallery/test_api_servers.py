"""The API over real HTTP, under servers that check what the application hands them.

The test client calls Django directly and accepts any header value; WSGI servers do not. Here the
same requests go through Django's development server (the one `manage.py runserver` and
`DEV_SERVER=1 make run` use, started by pytest-django's `live_server`) and through wsgiref with
`wsgiref.validate.validator`, which fails the request on anything PEP 3333 forbids (a header value
that is not exactly `str`, a wrong status line, ...).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.validate import validator

import pytest
import requests
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from PIL import Image

from gallery.models import Upload


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # the test output is not an access log
        pass


@pytest.fixture(params=["runserver", "wsgiref-validator"])
def base_url(request, transactional_db) -> Iterator[str]:
    """Where the app is served: Django's development server, or wsgiref behind the PEP 3333 validator."""
    if request.param == "runserver":
        yield request.getfixturevalue("live_server").url
        return
    httpd = make_server("127.0.0.1", 0, validator(WSGIHandler()), handler_class=_QuietHandler)

    def serve() -> None:
        try:
            httpd.serve_forever()
        finally:
            connections.close_all()  # this thread's connection, or the test database cannot be dropped

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def _token(base_url: str, username: str, password: str) -> str:
    response = requests.post(
        f"{base_url}/api/auth/token/", data={"username": username, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]


def test_upload_list_detail_and_delete_over_http(base_url: str, owner) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {_token(base_url, 'owner', 'owner-pass-123')}"

    created = session.post(
        f"{base_url}/api/uploads/",
        files={"image": ("sky.jpg", _jpeg(), "image/jpeg")},
        data={"artist": "Monet"},
        timeout=10,
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert created.headers["Location"] == body["url"] == f"{base_url}/api/uploads/{body['id']}/"
    assert Upload.objects.filter(pk=body["id"], owner=owner).exists()

    detail = session.get(created.headers["Location"], timeout=10)
    assert detail.status_code == 200 and detail.json()["id"] == body["id"]
    listing = session.get(f"{base_url}/api/uploads/", timeout=10)
    assert listing.status_code == 200 and [u["id"] for u in listing.json()["results"]] == [body["id"]]

    deleted = session.delete(created.headers["Location"], timeout=10)
    assert deleted.status_code == 204
    assert not Upload.objects.filter(pk=body["id"]).exists()


def test_rejections_and_errors_are_json_over_http(base_url: str, owner) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Token {_token(base_url, 'owner', 'owner-pass-123')}"

    bad = session.post(
        f"{base_url}/api/uploads/", files={"image": ("x.jpg", b"not an image", "image/jpeg")}, timeout=10
    )
    assert bad.status_code == 400 and "image" in bad.json()
    missing = session.get(f"{base_url}/api/uploads/999999/", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/json"
    anonymous = requests.get(f"{base_url}/api/uploads/", timeout=10)
    assert anonymous.status_code == 401 and "detail" in anonymous.json()
    assert Upload.objects.count() == 0
