"""Sign-in lockout (django-axes): who is locked out, and what they are told.

Failed sign-ins are counted per account and per address separately (AXES_LOCKOUT_PARAMETERS); after
AXES_FAILURE_LIMIT failures of either, sign-in is refused for AXES_COOLOFF_TIME, on the sign-in page,
the admin's and `POST /api/auth/token/` alike. Staff unlock accounts and addresses in the admin
(Access attempts → "Unlock").
"""

from __future__ import annotations

from datetime import timedelta

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, for every authenticate() that comes with a request.

    Only code calls authenticate() without a request (the test client's login(), management
    commands); there is no person or address to count, so those pass through to the next backend.
    Every sign-in entry point (pages, admin, API token) passes its request.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _minutes(delta: timedelta | None) -> int:
    return max(1, round(delta.total_seconds() / 60)) if delta else 0


def lockout_message(request: HttpRequest) -> str:
    minutes = _minutes(get_cool_off(request))
    return (
        f"Too many failed sign-ins for this account or from this address. Sign-in is locked for "
        f"{minutes} minute{'s' if minutes != 1 else ''}; try again later, or ask the site's staff to unlock it."
    )


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """AXES_LOCKOUT_CALLABLE: JSON under /api/ (like every API error), the site's page elsewhere."""
    cool_off = get_cool_off(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": lockout_message(request)}, status=429)
    else:
        context = {"message": lockout_message(request), "minutes": _minutes(cool_off)}
        response = render(request, "registration/locked_out.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
