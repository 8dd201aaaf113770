"""Error answers: JSON under /api/ for every status, the site's own pages elsewhere, never a debug page."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def quiet_client(db) -> Client:
    return Client(raise_request_exception=False)


def _is_json_error(response, status: int) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json", response.content[:200]
    assert isinstance(response.json()["detail"], str) and response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["/api/uploads/abc/", "/api/artworks/1e3/", "/api/artists/-1/similar/", "/api/no-such-thing/", "/api/uploads/1/x"],
)
def test_api_paths_that_match_no_route_answer_json_404(quiet_client, path: str) -> None:
    _is_json_error(quiet_client.get(path), 404)


@pytest.mark.parametrize("query", ["page=", "page=0", "page=1&page=2", "page=abc", "page=99"])
def test_a_page_that_is_not_one_number_in_range_answers_json_404(quiet_client, query: str) -> None:
    """As the schema documents: `page` is one integer from 1, and past the last page is 404."""
    _is_json_error(quiet_client.get(f"/api/artworks/?{query}"), 404)


def test_api_unknown_host_answers_json_400(quiet_client) -> None:
    _is_json_error(quiet_client.get("/api/styles/", HTTP_HOST="evil.example"), 400)


def test_api_crash_answers_json_500_without_details(quiet_client, settings) -> None:
    settings.ROOT_URLCONF = "tests.security.urls_boom"
    response = quiet_client.get("/api/boom/")
    _is_json_error(response, 500)
    assert b"sk-do-not-show" not in response.content and b"Traceback" not in response.content


def test_site_404_is_the_sites_own_page(quiet_client) -> None:
    response = quiet_client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "This page is not in the catalogue" in body and 'class="site-header"' in body
    for leak in ("Traceback", "DATABASES", "SECRET_KEY", "URLconf", "Using the URLconf"):
        assert leak not in body


def test_site_500_is_the_sites_own_page(quiet_client, settings) -> None:
    settings.ROOT_URLCONF = "tests.security.urls_boom"
    response = quiet_client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body and "css/site.css" in body
    assert "sk-do-not-show" not in body and "Traceback" not in body


def test_csrf_failure_is_explained_in_the_sites_style(db) -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_every_page_carries_a_content_security_policy(client, db) -> None:
    for path in ("/", "/artworks/", "/accounts/login/", "/api/docs/", "/no-such-page/"):
        policy = client.get(path)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'", path  # no inline or eval'd script anywhere
        assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
