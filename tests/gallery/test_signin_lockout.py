"""Password guessing is locked out per account and per address, on the sign-in page and the token
endpoint alike, with a clear message; the lock ends after the cool-off or when staff unlock it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"
LIMIT = 5  # AXES_FAILURE_LIMIT


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def _page_sign_in(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password})


def _token(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(TOKEN, {"username": username, "password": password})


def _signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def _fail(times: int, *, username: str = "owner", ip: str = "10.0.0.1", via=_page_sign_in) -> list[int]:
    return [via(username, "wrong-password", ip).status_code for _ in range(times)]


def test_an_account_is_locked_after_the_limit_even_with_the_right_password(owner, other_user) -> None:
    # Ordinary "wrong password" answers, until the failure that reaches the limit locks the account.
    assert _fail(LIMIT) == [200] * (LIMIT - 1) + [429]
    locked = _page_sign_in("owner", "owner-pass-123", "10.0.0.1")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode() and "15 minutes" in locked.content.decode()
    assert locked["Retry-After"] == "900"
    assert "_auth_user_id" not in locked.client.session
    # Per account: another address does not help the guesser...
    assert _page_sign_in("owner", "owner-pass-123", "10.9.9.9").status_code == 429
    # ...and other accounts are not affected.
    assert _signed_in(_page_sign_in("other", "other-pass-123", "10.9.9.9"))


def test_an_address_is_locked_after_the_limit_across_accounts(owner, other_user) -> None:
    for n in range(LIMIT):
        _fail(1, username=f"guess-{n}", ip="10.0.0.3")
    assert _page_sign_in("other", "other-pass-123", "10.0.0.3").status_code == 429
    assert _signed_in(_page_sign_in("other", "other-pass-123", "10.0.0.4"))


def test_the_token_endpoint_counts_and_locks_the_same_way_with_json(owner) -> None:
    assert _fail(LIMIT - 1, via=_token) == [400] * (LIMIT - 1)
    _fail(1, via=_page_sign_in)  # the page and the API share one count
    locked = _token("owner", "owner-pass-123", "10.0.0.1")
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert "token" not in locked.json()


def test_the_lock_ends_after_the_cool_off(owner) -> None:
    _fail(LIMIT)
    assert _page_sign_in("owner", "owner-pass-123", "10.0.0.1").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _signed_in(_page_sign_in("owner", "owner-pass-123", "10.0.0.1"))


def test_a_successful_sign_in_resets_the_count(owner) -> None:
    _fail(LIMIT - 1)
    assert _signed_in(_page_sign_in("owner", "owner-pass-123", "10.0.0.1"))
    _fail(LIMIT - 1)
    assert _signed_in(_page_sign_in("owner", "owner-pass-123", "10.0.0.1"))


def test_staff_unlock_in_the_admin(owner, admin_user) -> None:
    _fail(LIMIT)
    assert _token("owner", "owner-pass-123", "10.0.0.1").status_code == 429
    staff = Client()
    staff.force_login(admin_user)
    listing = staff.get("/admin/axes/accessattempt/?locked_out=1")
    assert listing.status_code == 200 and "owner" in listing.content.decode()
    attempts = list(AccessAttempt.objects.filter(username="owner").values_list("pk", flat=True))
    response = staff.post("/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": attempts}, follow=True)
    assert "Unlocked: owner from 10.0.0.1" in response.content.decode()
    assert _token("owner", "owner-pass-123", "10.0.0.1").status_code == 200
