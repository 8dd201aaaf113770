"""Who is asking: one answer for pages, the files behind API links, and the API itself.

A browser sends its session cookie; an app sends `Authorization: Token <token>` (knox). The API's
views get their user from DRF, which tries `REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]` in
order. The plain Django views that serve URLs the API hands out (an upload's image, its heat map)
ask `request_user`, which runs the same classes in the same order, so such a link opens for exactly
the caller who received it and for no one else.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.settings import api_settings


def request_user(request: HttpRequest) -> AbstractBaseUser | AnonymousUser:
    """The user behind `request`: by token or by session, as the API decides; anonymous when neither.

    A bad, expired or revoked token is anonymous here (the API answers it 401): a private file then
    answers 404, like a missing one.
    """
    authenticators = [authenticator() for authenticator in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    try:
        return Request(request, authenticators=authenticators).user
    except AuthenticationFailed:
        return AnonymousUser()
