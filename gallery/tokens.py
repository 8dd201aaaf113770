"""API tokens (django-rest-knox): created at each sign-in, expiring, listed and revoked by their owner.

Only a hash of each token is stored; `token_key` (its first characters) is what pages show and what
revoking names. Expiry is REST_KNOX["TOKEN_TTL"] (30 days unless ARTSITE_API_TOKEN_DAYS says
otherwise); an expired token answers 401 and is deleted on its next use.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings


class TokenLimitReached(Exception):
    """The user already has REST_KNOX["TOKEN_LIMIT_PER_USER"] working tokens."""


def token_create(*, user: AbstractBaseUser) -> tuple[AuthToken, str]:
    """A new token for `user`; the clear text is returned here once and stored nowhere.

    Raises TokenLimitReached when the user has as many working tokens as allowed.
    """
    limit = knox_settings.TOKEN_LIMIT_PER_USER
    if limit is not None and token_list(user=user).count() >= limit:
        raise TokenLimitReached()
    return AuthToken.objects.create(user=user)


def token_list(*, user: AbstractBaseUser) -> QuerySet[AuthToken]:
    """The user's tokens that still work, newest first."""
    now = timezone.now()
    return (
        AuthToken.objects.filter(user=user)
        .filter(Q(expiry__isnull=True) | Q(expiry__gt=now))
        .only("token_key", "created", "expiry")
        .order_by("-created")
    )


def token_revoke(*, user: AbstractBaseUser, token_key: str) -> int:
    """Delete the user's token(s) with this key; 0 when there is none among theirs."""
    deleted, _ = AuthToken.objects.filter(user=user, token_key=token_key).delete()
    return deleted


def token_revoke_all(*, user: AbstractBaseUser) -> int:
    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted
