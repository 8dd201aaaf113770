"""Sign-in slow-down and lockout (django-axes): who must wait, who is locked out, and what they are told.

Failed sign-ins are counted per account and per address separately (AXES_LOCKOUT_PARAMETERS), in axes'
AccessAttempt rows, on the sign-in page, the admin's and `POST /api/auth/token/` alike.

* Slow-down: after k failures of an account or an address, its next sign-in is refused unless
  signin_delay(k) has passed since its last failure (0 s after 1 failure, then 1, 2, 4 s … with the
  defaults). The refusal answers at once (429 with Retry-After): a web thread never sleeps, so
  guessers cannot tie up workers. It checks no password and does not count as a failure.
* Lockout: after AXES_FAILURE_LIMIT failures of either, sign-in is refused for AXES_COOLOFF_TIME.
  Staff unlock accounts and addresses in the admin (Access attempts → "Unlock").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_parameters, get_client_username, get_cool_off, get_credentials
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse

# Set on the request when a sign-in came too soon: the seconds to wait (Retry-After), for the answer.
_WAIT_ATTRIBUTE = "artsite_signin_wait_s"
_MAX_DOUBLINGS = 30  # the cap applies long before; this only keeps 2**n small for absurd counts


@dataclass(frozen=True)
class FailureRun:
    """The failures counted against one lockout parameter (the account, or the address)."""

    failures: int
    last_failure: datetime | None


def signin_failures(request: HttpRequest, credentials: dict) -> list[FailureRun]:
    """Selector: the current failures per lockout parameter, as axes counts them.

    The same filters (get_client_parameters) and window (failures newer than the cool-off) as axes'
    database handler uses for the lockout, so the slow-down and the lockout never disagree about who
    has failed how often. One aggregate query per parameter. Needs AxesProxyHandler.update_request()
    to have run (axes_ip_address, axes_attempt_time).
    """
    username = get_client_username(request, credentials)
    filters = get_client_parameters(username, request.axes_ip_address, request.axes_user_agent, request, credentials)
    threshold = get_cool_off_threshold(request) if get_cool_off(request) is not None else None
    runs = []
    for filter_kwargs in filters:
        attempts = AccessAttempt.objects.filter(**filter_kwargs)
        if threshold is not None:
            attempts = attempts.filter(attempt_time__gte=threshold)
        totals = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        runs.append(FailureRun(failures=totals["failures"] or 0, last_failure=totals["last"]))
    return runs


def signin_delay(failures: int) -> timedelta:
    """How long after the last failure the next sign-in may come: doubling from the second failure.

    0 after one failure (a typo costs nothing), then BASE, 2·BASE, 4·BASE … capped at MAX.
    ARTSITE_SIGNIN_DELAY_BASE_S = 0 turns the slow-down off (the lockout stays).
    """
    base = settings.ARTSITE_SIGNIN_DELAY_BASE_S
    if failures < 2 or base <= 0:
        return timedelta(0)
    seconds = min(settings.ARTSITE_SIGNIN_DELAY_MAX_S, base * 2 ** min(failures - 2, _MAX_DOUBLINGS))
    return timedelta(seconds=seconds)


def signin_wait(request: HttpRequest, credentials: dict) -> int:
    """Whole seconds (rounded up) this sign-in must still wait; 0 when it may go ahead."""
    now = request.axes_attempt_time
    wait = timedelta(0)
    for run in signin_failures(request, credentials):
        if run.last_failure is not None:
            wait = max(wait, run.last_failure + signin_delay(run.failures) - now)
    return math.ceil(wait.total_seconds())


class LockoutBackend(AxesStandaloneBackend):
    """Axes' lockout check, then the slow-down, for every authenticate() that comes with a request.

    Only code calls authenticate() without a request (the test client's login(), management
    commands); there is no person or address to count, so those pass through to the next backend.
    Every sign-in entry point (pages, admin, API token) passes its request.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password=None, **kwargs):
        if request is None:
            return None
        # Raises when locked out (the lockout's message wins: it is the longer wait).
        super().authenticate(request, username=username, password=password, **kwargs)
        if not settings.AXES_ENABLED:
            return None
        credentials = get_credentials(username=username, **kwargs)
        if AxesProxyHandler.get_implementation().is_whitelisted(request, credentials):
            return None
        wait_s = signin_wait(request, credentials)
        if wait_s > 0:
            setattr(request, _WAIT_ATTRIBUTE, wait_s)
            # axes_locked_out makes axes' failure handler skip counting this attempt (with
            # AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT off), so waiting never compounds, and
            # makes AxesMiddleware answer with lockout_response(). Raising PermissionDenied stops
            # authenticate() before ModelBackend checks the password: a refused guess learns nothing.
            request.axes_locked_out = True
            raise AxesBackendPermissionDenied("Sign-in came sooner than the slow-down allows")
        return None


def _minutes(delta: timedelta | None) -> int:
    return max(1, round(delta.total_seconds() / 60)) if delta else 0


def _wait_message(seconds: int) -> str:
    return f"Too many failed sign-ins; wait {seconds} second{'s' if seconds != 1 else ''} before trying again."


def lockout_message(request: HttpRequest) -> str:
    wait_s = getattr(request, _WAIT_ATTRIBUTE, None)
    if wait_s:
        return _wait_message(wait_s)
    minutes = _minutes(get_cool_off(request))
    return (
        f"Too many failed sign-ins for this account or from this address. Sign-in is locked for "
        f"{minutes} minute{'s' if minutes != 1 else ''}; try again later, or ask the site's staff to unlock it."
    )


def _wait_page(request: HttpRequest, original_response: HttpResponse | None, message: str) -> HttpResponse:
    """The sign-in page the person used (the site's or the admin's), the message as the form's error.

    Re-rendering the view's own template keeps its context (the checked `next`, the admin's header);
    the form's "wrong password" error is replaced, since the password was not checked.
    """
    context = getattr(original_response, "context_data", None) or {}
    form = context.get("form")
    if isinstance(original_response, TemplateResponse) and isinstance(form, Form):
        form.errors.pop("__all__", None)
        form.add_error(None, message)
        # Rendered here: the middlewares outside this one read the content.
        return TemplateResponse(request, original_response.template_name, context, status=429).render()
    heading = "Please wait a moment"
    return render(request, "registration/locked_out.html", {"message": message, "heading": heading}, status=429)


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """AXES_LOCKOUT_CALLABLE: JSON under /api/ (like every API error), the site's page elsewhere."""
    wait_s = getattr(request, _WAIT_ATTRIBUTE, None)
    if wait_s:
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse({"detail": _wait_message(wait_s)}, status=429)
        else:
            response = _wait_page(request, original_response, _wait_message(wait_s))
        response["Retry-After"] = str(wait_s)
        return response
    cool_off = get_cool_off(request)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": lockout_message(request)}, status=429)
    else:
        context = {"message": lockout_message(request), "minutes": _minutes(cool_off)}
        response = render(request, "registration/locked_out.html", context, status=429)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
