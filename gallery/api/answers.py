"""What every API view shares: the error answers it documents, an upload looked up for its owner
(404 otherwise, never 403, so upload ids reveal nothing), one page of a list, a free-text filter.

Errors are JSON: `{"detail": "..."}` for 401/404/409/429, `{"field": ["..."]}` for invalid input.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery import selectors as gallery_selectors
from gallery.models import Upload

from .serializers import (
    ErrorSerializer,
)

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


def text_filter(help_text: str) -> serializers.RegexField:
    """An optional free-text query parameter. The pattern says in the schema what DRF's CharField
    enforces anyway: no NUL character (PostgreSQL cannot store or compare one)."""
    return serializers.RegexField(r"^[^\x00]*$", required=False, allow_blank=True, max_length=200, help_text=help_text)


def paginated_response(*, view: APIView, request: Request, queryset: QuerySet, serializer_class: type) -> Response:
    """One page of `queryset` rendered with `serializer_class`, in DRF's `{count, next, previous, results}`."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True, context={"request": request}).data)
