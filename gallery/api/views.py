"""The REST API. Each view validates its input (nested Input/Filter serializers), calls one service or
selector, and renders an output serializer from `gallery.api.serializers` (HackSoft styleguide).

Errors are JSON: `{"detail": "..."}` for 401/404/409/429, `{"field": ["..."]}` for invalid input.
Another user's upload answers 404, never 403, so upload ids reveal nothing.
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from artsite.signin_lockout import lockout_message
from gallery import selectors as gallery_selectors
from gallery import services, tokens
from gallery.fetch import FetchBusy
from gallery.images import ImageRejected
from gallery.models import Artist, Artwork, Upload
from recommender.ranking import similar_works  # pgvector + Neo4j only; no TensorFlow in the web process

from . import selectors
from .serializers import (
    ArtistDetailSerializer,
    ArtistSerializer,
    ArtworkSerializer,
    ErrorSerializer,
    SimilarWorksSerializer,
    StyleSerializer,
    UploadListItemSerializer,
    UploadSerializer,
    UploadStatusSerializer,
)
from .throttling import UploadRateThrottle

SIMILAR_DEFAULT_K = 10
SIMILAR_MAX_K = 50

INVALID_INPUT = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='Invalid input: `{"<field>": ["message"], "non_field_errors": ["message"]}`.',
)
NOT_AUTHENTICATED = OpenApiResponse(ErrorSerializer, description="No or invalid credentials.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No object with this id.")
UPLOAD_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No upload with this id among the caller's.")


def own_upload_or_404(request: Request, pk: int, *, with_results: bool = True) -> Upload:
    """The requesting user's upload ``pk``; anyone else's, or none, is the same JSON 404."""
    upload = gallery_selectors.upload_get(owner=request.user, pk=pk, with_results=with_results)
    if upload is None:
        raise exceptions.NotFound("No upload with this id among yours.")
    return upload


class NotEmbedded(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "This artwork is not embedded yet, so similar works cannot be computed. "
        "Run `manage.py embed_catalogue` and try again."
    )
    default_code = "not_embedded"


def text_filter(help_text: str) -> serializers.RegexField:
    """An optional free-text query parameter. The pattern says in the schema what DRF's CharField
    enforces anyway: no NUL character (PostgreSQL cannot store or compare one)."""
    return serializers.RegexField(r"^[^\x00]*$", required=False, allow_blank=True, max_length=200, help_text=help_text)


def paginated_response(*, view: APIView, request: Request, queryset: QuerySet, serializer_class: type) -> Response:
    """One page of `queryset` rendered with `serializer_class`, in DRF's `{count, next, previous, results}`."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)


# --- Authentication ------------------------------------------------------------------------------


class DownloadsBusy(exceptions.APIException):
    """503 with Retry-After: every download slot is taken (gallery.fetch), nothing was stored."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "downloads_busy"

    def __init__(self, detail: str, wait: int) -> None:
        super().__init__(detail)
        self.wait = wait


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


# --- Uploads -----------------------------------------------------------------------------------


class UploadListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    pagination_class: type[PageNumberPagination] = api_settings.DEFAULT_PAGINATION_CLASS
    throttle_scope = "uploads"

    class InputSerializer(serializers.Serializer):
        image = serializers.FileField(required=False, help_text="A JPEG, PNG or WebP painting (multipart only)")
        url = serializers.URLField(
            required=False, allow_blank=True, max_length=2000, help_text="Public http(s) address of an image"
        )
        artist = serializers.CharField(
            required=False, allow_blank=True, max_length=200, default="", help_text="Painter hint (name)"
        )

        class Meta:
            ref_name = "UploadCreateMultipart"

        def validate(self, attrs: dict) -> dict:
            if attrs.get("image") and attrs.get("url"):
                raise serializers.ValidationError(
                    "Send either an image file (`image`) or an image address (`url`), not both."
                )
            if not attrs.get("image") and not attrs.get("url"):
                raise serializers.ValidationError(
                    "Send an image: a file in the multipart field `image`, or its address in `url`."
                )
            return attrs

    class UrlInputSerializer(InputSerializer):
        image = None  # JSON bodies carry an address only

        class Meta:
            ref_name = "UploadCreateJson"

    def get_throttles(self) -> list[BaseThrottle]:
        # Only creating costs (a download, a model run); reading one's own list is not limited.
        return [UploadRateThrottle()] if self.request.method == "POST" else []

    @extend_schema(
        summary="List my uploads",
        description="The caller's own uploads, newest first, without their matches (see the detail).",
        responses={200: UploadListItemSerializer(many=True), 401: NOT_AUTHENTICATED},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            view=self,
            request=request,
            queryset=gallery_selectors.upload_list(owner=request.user),
            serializer_class=UploadListItemSerializer,
        )

    @extend_schema(
        summary="Upload a painting",
        description=(
            "Send a file (multipart `image`) or a public image address (`url`, multipart or JSON), and "
            "optionally the painter's name (`artist`). The image is checked and stored, and its analysis "
            "is queued: the answer is 202 with the upload; poll `/api/uploads/{id}/status/` (cheap) or its "
            "`url` until `status` is `done` or `failed`. Throttled (scope `uploads`)."
        ),
        request={
            "multipart/form-data": InputSerializer,
            "application/json": UrlInputSerializer,
        },
        responses={
            202: UploadSerializer,
            400: INVALID_INPUT,
            401: NOT_AUTHENTICATED,
            429: OpenApiResponse(ErrorSerializer, description="Too many uploads; retry after `Retry-After`."),
            503: OpenApiResponse(
                ErrorSerializer,
                description="Too many image addresses are being downloaded at once; retry after `Retry-After`.",
            ),
        },
        examples=[
            OpenApiExample(
                "Rejected file",
                value={"image": ["The file is not an image we can read; use JPEG, PNG or WebP."]},
                response_only=True,
                status_codes=["400"],
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            upload = services.upload_create(
                owner=request.user,
                image_file=data.get("image"),
                url=data.get("url", ""),
                artist_hint=data["artist"],
            )
        except ImageRejected as exc:
            raise exceptions.ValidationError({"url" if data.get("url") else "image": [str(exc)]}) from exc
        except FetchBusy as exc:
            raise DownloadsBusy(str(exc), wait=exc.retry_after_s) from exc
        upload = gallery_selectors.upload_get(owner=request.user, pk=upload.pk)
        body = UploadSerializer(upload, context={"request": request}).data
        # `body["url"]` is DRF's Hyperlink (a str subclass); WSGI servers such as wsgiref accept only str.
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})


class UploadDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="One of my uploads with its results",
        responses={200: UploadSerializer, 401: NOT_AUTHENTICATED, 404: UPLOAD_NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        upload = own_upload_or_404(request, pk)
        return Response(UploadSerializer(upload, context={"request": request}).data)

    @extend_schema(
        summary="Delete one of my uploads",
        description="Deletes the upload, its results and its stored image.",
        responses={204: None, 401: NOT_AUTHENTICATED, 404: UPLOAD_NOT_FOUND},
    )
    def delete(self, request: Request, pk: int) -> Response:
        upload = own_upload_or_404(request, pk, with_results=False)
        services.upload_delete(upload=upload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Where one of my uploads is",
        description=(
            "Status, stage and progress only, from one query: poll this while `status` is `queued` or "
            "`running` (every second or so), then read the upload's `url` once for its results."
        ),
        responses={200: UploadStatusSerializer, 401: NOT_AUTHENTICATED, 404: UPLOAD_NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        upload = own_upload_or_404(request, pk, with_results=False)
        return Response(UploadStatusSerializer(upload, context={"request": request}).data)


# --- Catalogue (public, read-only) -------------------------------------------------------------


class ArtworkListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class: type[PageNumberPagination] = api_settings.DEFAULT_PAGINATION_CLASS

    class FilterSerializer(serializers.Serializer):
        style = text_filter("Style slug or name (any case); empty: all")
        # A regex, not SlugField: an empty value means "all painters", and the schema must say so.
        artist = serializers.RegexField(
            r"^[-a-zA-Z0-9_]*$", required=False, allow_blank=True, help_text="Painter slug; empty: all"
        )

    @extend_schema(
        summary="Catalogue works",
        parameters=[FilterSerializer],
        responses={200: ArtworkSerializer(many=True), 400: INVALID_INPUT},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            view=self,
            request=request,
            queryset=selectors.artwork_search(**filters.validated_data),
            serializer_class=ArtworkSerializer,
        )


class ArtworkDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="One catalogue work", responses={200: ArtworkSerializer, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        artwork = selectors.artwork_get_light(pk=pk)
        if artwork is None:
            raise exceptions.NotFound("No artwork with this id.")
        return Response(ArtworkSerializer(artwork, context={"request": request}).data)


class ArtworkSimilarApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        k = serializers.IntegerField(
            required=False,
            default=SIMILAR_DEFAULT_K,
            min_value=1,
            max_value=SIMILAR_MAX_K,
            help_text=f"How many works (default {SIMILAR_DEFAULT_K}, at most {SIMILAR_MAX_K})",
        )

    @extend_schema(
        summary="Works similar to a catalogue work",
        description=(
            "Visual neighbours re-ranked by painter influence (the artwork's own painter is the query "
            "painter). `influence_skipped` is true when the influence graph was unavailable."
        ),
        parameters=[InputSerializer],
        responses={
            200: SimilarWorksSerializer,
            400: INVALID_INPUT,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="The artwork has no embedding yet."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        artwork: Artwork | None = gallery_selectors.artwork_get(pk=pk)
        if artwork is None:
            raise exceptions.NotFound("No artwork with this id.")
        if artwork.embedding is None:
            raise NotEmbedded()
        ranking = similar_works(
            artwork.embedding, query_artist=artwork.artist, exclude_ids=[artwork.id], k=params.validated_data["k"]
        )
        result = {
            "query_artist": ranking.query_artist,
            "influence_skipped": ranking.influence_skipped,
            "matches": ranking.matches,  # RankedMatch has MatchSerializer's fields (ranking.MATCH_FIELDS)
        }
        return Response(SimilarWorksSerializer(result, context={"request": request}).data)


class ArtistListApi(APIView):
    permission_classes = [AllowAny]
    pagination_class: type[PageNumberPagination] = api_settings.DEFAULT_PAGINATION_CLASS

    class FilterSerializer(serializers.Serializer):
        q = text_filter("Part of the painter's name (any case); empty: all")

    @extend_schema(
        summary="Painters",
        parameters=[FilterSerializer],
        responses={200: ArtistSerializer(many=True), 400: INVALID_INPUT},
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            view=self,
            request=request,
            queryset=gallery_selectors.artist_list(q=filters.validated_data.get("q")),
            serializer_class=ArtistSerializer,
        )


class ArtistDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="One painter with influences",
        description="`influenced_by` and `influenced` come from the database's influence table.",
        responses={200: ArtistDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        artist: Artist | None = selectors.artist_get(pk=pk)
        if artist is None:
            raise exceptions.NotFound("No painter with this id.")
        context = {"request": request, "influences": gallery_selectors.artist_influences(artist)}
        return Response(ArtistDetailSerializer(artist, context=context).data)


class StyleListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(summary="Styles with their number of works", responses={200: StyleSerializer(many=True)})
    def get(self, request: Request) -> Response:
        styles = gallery_selectors.styles_with_counts()
        return Response(StyleSerializer(styles, many=True, context={"request": request}).data)
