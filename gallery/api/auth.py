"""`POST /api/auth/token/`: an expiring API token for a username and password."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from artsite.signin_lockout import lockout_message
from gallery import tokens

from .answers import (
    INVALID_INPUT,
)
from .serializers import (
    ErrorSerializer,
)


class SignInLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed sign-ins; try again later."
    default_code = "locked_out"


class TooManyTokens(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "You have too many API tokens; revoke some on your account's tokens page first."
    default_code = "token_limit"


class TokenObtainApi(APIView):
    """`POST /api/auth/token/`: username and password in, a new expiring API token out.

    Each call makes a new token (listed and revocable on the account's tokens page); the old ones keep
    working until they expire or are revoked.

    The password is checked by Django's authenticate() with the request, so failed attempts count
    towards the sign-in lockout exactly as on the sign-in page (artsite/signin_lockout.py).
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []  # the body carries the credentials: no session, so no CSRF check

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})

        class Meta:
            ref_name = "TokenRequest"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`; shown only this once")
        expiry = serializers.DateTimeField(help_text="When the token stops working")

        class Meta:
            ref_name = "TokenResponse"

    @extend_schema(
        summary="Get an API token",
        request={
            "application/json": InputSerializer,
            "application/x-www-form-urlencoded": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        responses={
            200: OutputSerializer,
            400: INVALID_INPUT,
            403: OpenApiResponse(ErrorSerializer, description="Token limit reached; revoke some first."),
            429: OpenApiResponse(ErrorSerializer, description="Sign-in locked after too many failures."),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request  # what the lockout middleware sees
        user = authenticate(django_request, **serializer.validated_data)
        if user is None:
            if getattr(django_request, "axes_locked_out", False):
                raise SignInLocked(lockout_message(django_request))
            raise exceptions.ValidationError({"non_field_errors": ["Unable to log in with provided credentials."]})
        try:
            instance, token = tokens.token_create(user=user)
        except tokens.TokenLimitReached as exc:
            raise TooManyTokens() from exc
        return Response(self.OutputSerializer({"token": token, "expiry": instance.expiry}).data)
