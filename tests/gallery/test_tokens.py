"""API tokens expire, are new at every sign-in, and are listed and revoked from the account page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

TOKEN = "/api/auth/token/"
PAGE = "/accounts/tokens/"


def _obtain(username: str = "owner", password: str = "owner-pass-123") -> dict:
    response = APIClient().post(TOKEN, {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _api(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_each_sign_in_gives_a_new_token_that_expires(owner, settings) -> None:
    first, second = _obtain(), _obtain()
    assert first["token"] != second["token"]
    expiry = parse_datetime(first["expiry"])
    ttl = settings.REST_KNOX["TOKEN_TTL"]
    assert abs(expiry - (timezone.now() + ttl)) < timedelta(minutes=1)
    assert _api(first["token"]).get("/api/uploads/").status_code == 200
    assert _api(second["token"]).get("/api/uploads/").status_code == 200


def test_the_contract_form_and_json_bodies_and_the_token_header(owner) -> None:
    form = Client().post(TOKEN, {"username": "owner", "password": "owner-pass-123"})
    assert form.status_code == 200 and set(form.json()) == {"token", "expiry"}
    bad = APIClient().post(TOKEN, {"username": "owner", "password": "nope"}, format="json")
    assert bad.status_code == 400 and "non_field_errors" in bad.json()
    missing = APIClient().post(TOKEN, {}, format="json")
    assert missing.status_code == 400 and {"username", "password"} <= set(missing.json())


def test_an_expired_token_is_refused(owner) -> None:
    token = _obtain()["token"]
    AuthToken.objects.filter(user=owner).update(expiry=timezone.now() - timedelta(seconds=1))
    response = _api(token).get("/api/uploads/")
    assert response.status_code == 401 and "detail" in response.json()


def test_the_page_lists_working_tokens_by_prefix_only(owner, other_user) -> None:
    mine = _obtain()["token"]
    theirs = _obtain("other", "other-pass-123")["token"]
    expired, _ = AuthToken.objects.create(user=owner, expiry=timedelta(seconds=-1))
    body = _page(owner).get(PAGE).content.decode()
    assert mine[:15] in body and mine not in body  # the prefix, never the token
    assert theirs[:15] not in body and expired.token_key not in body


def test_revoking_a_token_signs_its_program_out(owner) -> None:
    keep, drop = _obtain()["token"], _obtain()["token"]
    response = _page(owner).post(PAGE, {"action": "revoke", "token_key": drop[:15]}, follow=True)
    assert "Revoked the token" in response.content.decode()
    assert _api(drop).get("/api/uploads/").status_code == 401
    assert _api(keep).get("/api/uploads/").status_code == 200


def test_revoke_all(owner) -> None:
    tokens = [_obtain()["token"] for _ in range(3)]
    _page(owner).post(PAGE, {"action": "revoke_all"})
    assert all(_api(t).get("/api/uploads/").status_code == 401 for t in tokens)


def test_nobody_revokes_anothers_token(owner, other_user) -> None:
    theirs = _obtain("other", "other-pass-123")["token"]
    response = _page(owner).post(PAGE, {"action": "revoke", "token_key": theirs[:15]}, follow=True)
    assert "No such token among yours" in response.content.decode()
    assert _api(theirs).get("/api/uploads/").status_code == 200


def test_a_token_made_on_the_page_is_shown_once_and_works(owner) -> None:
    page = _page(owner)
    response = page.post(PAGE, {"action": "create"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    token = response.context["new_token"]
    assert token in response.content.decode()
    assert _api(token).get("/api/uploads/").status_code == 200
    assert token not in page.get(PAGE).content.decode()  # never shown again


def test_the_token_limit(owner, settings) -> None:
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_LIMIT_PER_USER": 2}
    _obtain(), _obtain()
    refused = APIClient().post(TOKEN, {"username": "owner", "password": "owner-pass-123"}, format="json")
    assert refused.status_code == 403 and "revoke some" in refused.json()["detail"]


def test_the_page_needs_sign_in(db) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("action", ["", "explode"])
def test_unknown_actions_change_nothing(owner, action: str) -> None:
    _obtain()
    assert _page(owner).post(PAGE, {"action": action}).status_code == 400
    assert AuthToken.objects.filter(user=owner).count() == 1
