"""Password guessing is slowed down, then locked out, per account and per address, on the sign-in page,
the admin's and the token endpoint alike, with a clear message; the lock ends after the cool-off or when
staff unlock it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F, Sum
from django.test import Client
from django.utils import timezone

LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"
LIMIT = 5  # AXES_FAILURE_LIMIT
MAX_DELAY = timedelta(seconds=60)  # ARTSITE_SIGNIN_DELAY_MAX_S


@pytest.fixture(autouse=True)
def _limits(settings) -> None:
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    settings.ARTSITE_SIGNIN_DELAY_BASE_S = 1  # waits of 0, 1, 2, 4 s after 1, 2, 3, 4 failures
    settings.ARTSITE_SIGNIN_DELAY_MAX_S = int(MAX_DELAY.total_seconds())


def _page_sign_in(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(LOGIN, {"username": username, "password": password})


def _token(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(TOKEN, {"username": username, "password": password})


def _signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def _time_passes(delta: timedelta) -> None:
    """Every recorded failure happened `delta` earlier: the clock moves on without the test sleeping."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - delta)


def _fail(
    times: int, *, username: str = "owner", ip: str = "10.0.0.1", via=_page_sign_in, wait_out: bool = True
) -> list[int]:
    """Wrong-password sign-ins; with `wait_out` the guesser waits out the slow-down after each one."""
    statuses = []
    for _ in range(times):
        statuses.append(via(username, "wrong-password", ip).status_code)
        if wait_out:
            _time_passes(MAX_DELAY)
    return statuses


def _failures(**filter_kwargs) -> int:
    return AccessAttempt.objects.filter(**filter_kwargs).aggregate(n=Sum("failures_since_start"))["n"] or 0


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


# --- Slow-down before the lock ---------------------------------------------------------------------


def _without_csrf(page: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", page)


def _three_failures(*, via=_page_sign_in, ip: str = "10.0.0.1") -> None:
    """Two failures waited out, then a third just now: the next try must wait 2 s."""
    _fail(2, via=via, ip=ip)
    _fail(1, via=via, ip=ip, wait_out=False)


def test_the_schedule_doubles_from_the_second_failure_up_to_the_cap(settings) -> None:
    from artsite.signin_lockout import signin_delay

    assert [signin_delay(k).total_seconds() for k in range(0, 9)] == [0, 0, 1, 2, 4, 8, 16, 32, 60]
    assert signin_delay(10**6) == MAX_DELAY
    settings.ARTSITE_SIGNIN_DELAY_BASE_S = 0
    assert signin_delay(4) == timedelta(0)


def test_a_sign_in_too_soon_after_failures_waits_even_with_the_right_password(owner) -> None:
    _three_failures()
    early = _page_sign_in("owner", "owner-pass-123", "10.0.0.1")
    assert early.status_code == 429
    assert early["Retry-After"] == "2"
    page = early.content.decode()
    # The sign-in page itself, the wait as the form's error, not "wrong password" (it was not checked).
    assert "Too many failed sign-ins; wait 2 seconds before trying again." in page
    assert 'name="password"' in page and 'value="owner"' in page
    assert "Please enter a correct" not in page
    assert "_auth_user_id" not in early.client.session
    # Half-way through the wait: still refused, with what is left, rounded up.
    _time_passes(timedelta(seconds=1.5))
    later = _page_sign_in("owner", "owner-pass-123", "10.0.0.1")
    assert later.status_code == 429 and later["Retry-After"] == "1"
    assert "wait 1 second before" in later.content.decode()
    # Once the wait is over the right password works, and resets the count as axes does.
    _time_passes(timedelta(seconds=0.6))
    assert _signed_in(_page_sign_in("owner", "owner-pass-123", "10.0.0.1"))
    assert _failures(username="owner") == 0
    assert _fail(2, wait_out=False) == [200, 200]  # back to "one typo is free"


def test_a_sign_in_too_soon_is_not_counted_and_checks_no_password(owner) -> None:
    _three_failures()
    refused = [_page_sign_in("owner", "wrong-password", "10.0.0.1") for _ in range(LIMIT)]
    right = _page_sign_in("owner", "owner-pass-123", "10.0.0.1")
    assert {r.status_code for r in refused} == {429} and right.status_code == 429
    # The same answer for a right and a wrong password: no oracle while waiting.
    assert _without_csrf(right.content) == _without_csrf(refused[-1].content)
    assert right["Retry-After"] == refused[-1]["Retry-After"]
    # Not counted: still 3 failures, so no lockout although LIMIT more tries came in.
    assert _failures(username="owner") == 3 and _failures(ip_address="10.0.0.1") == 3
    _time_passes(timedelta(seconds=2))
    assert _signed_in(_page_sign_in("owner", "owner-pass-123", "10.0.0.1"))


def test_the_slow_down_applies_per_address_across_accounts(owner, other_user) -> None:
    _fail(1, username="guess-0", ip="10.0.0.5")
    _fail(1, username="guess-1", ip="10.0.0.5", wait_out=False)
    # "other" never failed, but this address did twice: it waits 1 s.
    early = _page_sign_in("other", "other-pass-123", "10.0.0.5")
    assert early.status_code == 429 and early["Retry-After"] == "1"
    # The same account from an address that never failed is not slowed.
    assert _signed_in(_page_sign_in("other", "other-pass-123", "10.0.0.6"))


def test_the_slow_down_applies_per_account_across_addresses(owner, other_user) -> None:
    _fail(1, ip="10.0.0.7")
    _fail(1, ip="10.0.0.8", wait_out=False)
    # A fresh address does not help with an account that failed twice...
    early = _token("owner", "owner-pass-123", "10.0.0.9")
    assert early.status_code == 429 and early["Retry-After"] == "1"
    # ...and another account from that address is not affected.
    assert _token("other", "other-pass-123", "10.0.0.9").status_code == 200


def test_the_token_endpoint_slows_down_with_json_and_shares_the_count(owner) -> None:
    _fail(2, via=_token)
    _fail(1, via=_page_sign_in, wait_out=False)  # the page and the API share one count
    early = _token("owner", "owner-pass-123", "10.0.0.1")
    assert early.status_code == 429
    assert early["Content-Type"] == "application/json" and early["Retry-After"] == "2"
    assert early.json() == {"detail": "Too many failed sign-ins; wait 2 seconds before trying again."}
    assert _failures(username="owner") == 3
    _time_passes(timedelta(seconds=2))
    assert "token" in _token("owner", "owner-pass-123", "10.0.0.1").json()


def test_the_admin_sign_in_is_slowed_down_on_its_own_page(admin_user) -> None:
    def admin_sign_in(password: str):
        return Client(REMOTE_ADDR="10.0.0.2").post("/admin/login/", {"username": "boss", "password": password})

    assert admin_sign_in("wrong-password").status_code == 200
    assert admin_sign_in("wrong-password").status_code == 200
    early = admin_sign_in("boss-pass-123")
    assert early.status_code == 429 and early["Retry-After"] == "1"
    page = early.content.decode()
    assert "Too many failed sign-ins; wait 1 second before trying again." in page
    # The admin's own sign-in page (its header, its form), not the site's.
    assert "artsite catalogue" in page and 'id="login-form"' in page
    _time_passes(timedelta(seconds=1))
    assert admin_sign_in("boss-pass-123").status_code == 302
