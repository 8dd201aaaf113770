"""The catalogue in the API (public, read-only): works, similar works, painters, styles."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from gallery import selectors as gallery_selectors
from gallery.models import Artist, Artwork
from recommender.ranking import similar_works  # pgvector + Neo4j only; no TensorFlow in the web process

from . import selectors
from .answers import (
    INVALID_INPUT,
    NOT_FOUND,
    paginated_response,
    text_filter,
)
from .serializers import (
    ArtistDetailSerializer,
    ArtistSerializer,
    ArtworkSerializer,
    ErrorSerializer,
    SimilarWorksSerializer,
    StyleSerializer,
)

SIMILAR_DEFAULT_K = 10
SIMILAR_MAX_K = 50


class NotEmbedded(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = (
        "This artwork is not embedded yet, so similar works cannot be computed. "
        "Run `manage.py embed_catalogue` and try again."
    )
    default_code = "not_embedded"


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
