"""A person's uploads in the API: send one, poll its status, read its results, analyse it again, delete it.

Each view validates its input (nested Input serializers), calls one service or selector, and renders
an output serializer from `gallery.api.serializers` (HackSoft styleguide).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from gallery import selectors as gallery_selectors
from gallery import services, upload_events
from gallery.corners import FRAMINGS, CornersRejected, framing_request
from gallery.fetch import FetchBusy
from gallery.images import ImageRejected
from gallery.upload_events import WAIT_MAX_S
from recommender import pipeline

from .answers import (
    INVALID_INPUT,
    NOT_AUTHENTICATED,
    UPLOAD_NOT_FOUND,
    own_upload_or_404,
    paginated_response,
)
from .serializers import (
    ErrorSerializer,
    UploadListItemSerializer,
    UploadSerializer,
    UploadStatusSerializer,
)
from .throttling import UploadRateThrottle


class DownloadsBusy(exceptions.APIException):
    """503 with Retry-After: every download slot is taken (gallery.fetch), nothing was stored."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "downloads_busy"

    def __init__(self, detail: str, wait: int) -> None:
        super().__init__(detail)
        self.wait = wait


# --- Uploads -----------------------------------------------------------------------------------


class UploadListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    pagination_class: type[PageNumberPagination] = api_settings.DEFAULT_PAGINATION_CLASS
    throttle_scope = "uploads"

    class InputSerializer(serializers.Serializer):
        image = serializers.FileField(
            required=False, help_text="A JPEG, PNG, WebP, HEIC or AVIF painting (multipart only)"
        )
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
                value={"image": ["The file is not an image we can read; use JPEG, PNG, WebP, HEIC or AVIF."]},
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
        body = UploadSerializer(gallery_selectors.upload_created_view(upload), context={"request": request}).data
        # `body["url"]` is DRF's Hyperlink (a str subclass); WSGI servers such as wsgiref accept only str.
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})


class WaitQuery(serializers.Serializer):
    """`?wait=` in the schema, with its bounds (gallery.upload_events.wait_query checks them)."""

    wait = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=WAIT_MAX_S,
        help_text=f"Seconds to wait for the upload to move, 0 to {WAIT_MAX_S:g} (default 0: answer at once)",
    )


class StatusWaitQuery(WaitQuery):
    progress = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        help_text="The progress you last saw: with `wait`, answer as soon as it changes",
    )


def _wait_query(request: Request) -> upload_events.WaitQuery:
    try:
        return upload_events.wait_query(request.query_params)
    except upload_events.WaitQueryRejected as exc:
        raise exceptions.ValidationError({exc.field: [str(exc)]}) from None


class UploadDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="One of my uploads with its results",
        description=(
            "With `wait` (seconds, up to 20) the answer comes once the upload is finished, or when `wait` "
            "runs out: right after sending an upload, one request gives its results (the status endpoint "
            "is for following its progress)."
        ),
        parameters=[WaitQuery],
        responses={200: UploadSerializer, 400: INVALID_INPUT, 401: NOT_AUTHENTICATED, 404: UPLOAD_NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        query = _wait_query(request)
        if query.wait_s:  # the cheap read while it waits, the results once
            upload_events.upload_wait(
                upload_id=pk,
                read=lambda: own_upload_or_404(request, pk, with_results=False),
                settled=lambda u: u.is_finished,
                wait_s=query.wait_s,
            )
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
            "Status, stage and progress only, from one query. Ask with `wait` (seconds, up to 20) and the "
            "answer comes as soon as the upload is finished, or its progress differs from `progress` when "
            "you send the one you last saw, or when `wait` runs out: one request per step instead of a "
            "poll every second. Ask again while `status` is `queued` or `running` (without `wait`, no "
            "more than every second or so), then read the upload's `url` once for its results. A busy "
            "server may answer before anything changed, so keep a second between requests that come "
            "back unchanged."
        ),
        parameters=[StatusWaitQuery],
        responses={200: UploadStatusSerializer, 400: INVALID_INPUT, 401: NOT_AUTHENTICATED, 404: UPLOAD_NOT_FOUND},
    )
    def get(self, request: Request, pk: int) -> Response:
        query = _wait_query(request)
        upload = upload_events.upload_wait(
            upload_id=pk,
            read=lambda: own_upload_or_404(request, pk, with_results=False),
            settled=lambda u: query.settled(finished=u.is_finished, progress=u.progress),
            wait_s=query.wait_s,
        )
        return Response(UploadStatusSerializer(upload, context={"request": request}).data)


class UploadBusy(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This upload is still being analysed; try again once it is done."
    default_code = "upload_busy"


class UploadReanalyseApi(APIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "uploads"

    class InputSerializer(serializers.Serializer):
        framing = serializers.ChoiceField(
            choices=list(FRAMINGS),
            required=False,
            help_text="Where the painting is: `corners` (send `corners`), `whole` (the whole photo) or `auto` "
            "(find it in the photo). Left out: as for the upload (corners it was given, or found).",
        )
        corners = serializers.JSONField(
            required=False,
            help_text="[[x, y]] × 4, fractions of the image's width and height, clockwise from the top-left "
            "(as `insights.painting.corners` gives them)",
        )

        class Meta:
            ref_name = "UploadReanalyse"

    def get_throttles(self) -> list[BaseThrottle]:
        return [UploadRateThrottle()]  # a new analysis costs as much as an upload

    @extend_schema(
        summary="Analyse one of my uploads again",
        description=(
            "A new upload of the same image is created and queued (202, like a new upload); this one keeps "
            "its results. Send corrected `corners` (with `framing` `corners`), or `framing` `whole` to analyse "
            "the whole photo, or `auto` to let the site find the painting again. Throttled (scope `uploads`)."
        ),
        request=InputSerializer,
        responses={
            202: UploadSerializer,
            400: INVALID_INPUT,
            401: NOT_AUTHENTICATED,
            404: UPLOAD_NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="The upload is still being analysed."),
            429: OpenApiResponse(ErrorSerializer, description="Too many analyses; retry after `Retry-After`."),
        },
        examples=[
            OpenApiExample(
                "Corrected corners",
                value={"framing": "corners", "corners": [[0.2, 0.15], [0.8, 0.17], [0.79, 0.85], [0.21, 0.83]]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, pk: int) -> Response:
        upload = own_upload_or_404(request, pk, with_results=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not upload.is_finished:
            raise UploadBusy()
        framing = data.get("framing") or ("corners" if "corners" in data else "")
        try:
            corners = framing_request(framing=framing, corners=data.get("corners")) if framing else None
        except CornersRejected as exc:
            raise exceptions.ValidationError({"corners": [str(exc)]}) from exc
        kwargs = {"corners_requested": corners} if framing else {}
        again = pipeline.upload_reanalyse(upload=upload, **kwargs)
        again = gallery_selectors.upload_get(owner=request.user, pk=again.pk)
        body = UploadSerializer(again, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})
