"""API of the exploration features: paths between painters, palette search, the map of the catalogue.

Same contract as gallery.api.uploads and gallery.api.catalogue: nested Input serializers validate,
one selector answers, output serializers render; errors are JSON (`{"detail": ...}` or
`{"field": [...]}`).
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recommender import graph, insights, map_read, palette_search
from recommender.painter_paths import DEFAULT_MAX_HOPS, MAX_HOPS_LIMIT, PathInputError, painter_path

from . import selectors
from .answers import INVALID_INPUT, NOT_AUTHENTICATED, NOT_FOUND, own_upload_or_404
from .serializers import (
    PUBLIC_LINK,
    ArtistRefSerializer,
    ArtworkSummarySerializer,
    ErrorSerializer,
    PaletteColourSerializer,
    UploadInsightSerializer,
)


class GraphUnavailableError(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The influence graph is unavailable right now; try again in a minute."
    default_code = "graph_unavailable"


# --- Paths between painters -----------------------------------------------------------------------


class PathStepSerializer(serializers.Serializer):
    artist = ArtistRefSerializer()
    artwork = ArtworkSummarySerializer(allow_null=True, help_text="One work of this painter; null if none")
    relation_to_next = serializers.ChoiceField(
        source="relation",
        choices=["influenced by", "influenced", ""],
        help_text='"influenced by": this painter was influenced by the next one; "influenced": the reverse; '
        "empty for the last painter",
    )


class PainterPathSerializer(serializers.Serializer):
    source = ArtistRefSerializer()
    target = ArtistRefSerializer()
    max_hops = serializers.IntegerField()
    found = serializers.BooleanField(help_text="False when no path joins them within max_hops steps")
    length = serializers.IntegerField(help_text="Number of influence steps; 0 when not found")
    steps = PathStepSerializer(many=True, help_text="Painters along the path, from source to target")


class ArtistPathApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        to = serializers.IntegerField(min_value=1, help_text="Id of the other painter")
        max_hops = serializers.IntegerField(
            required=False,
            default=DEFAULT_MAX_HOPS,
            min_value=1,
            max_value=MAX_HOPS_LIMIT,
            help_text=f"Longest path searched (default {DEFAULT_MAX_HOPS}, at most {MAX_HOPS_LIMIT})",
        )

    @extend_schema(
        summary="Shortest influence path between two painters",
        description=(
            "Neo4j shortestPath over INFLUENCED_BY edges in either direction, at most `max_hops` steps, "
            "with one catalogue work of each painter on the path. `found` is false when there is no "
            "path within the bound."
        ),
        parameters=[InputSerializer],
        responses={
            200: PainterPathSerializer,
            400: INVALID_INPUT,
            404: NOT_FOUND,
            503: OpenApiResponse(ErrorSerializer, description="The influence graph is unavailable."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        source = selectors.artist_get(pk=pk)
        target = selectors.artist_get(pk=params.validated_data["to"])
        if source is None or target is None:
            raise exceptions.NotFound(
                "No painter with this id." if source is None else "No painter with the id in `to`."
            )
        try:
            path = painter_path(source=source, target=target, max_hops=params.validated_data["max_hops"])
        except PathInputError as exc:
            raise exceptions.ValidationError({"to": [str(exc)]}) from exc
        except graph.GraphUnavailable as exc:
            raise GraphUnavailableError() from exc
        data = PainterPathSerializer(
            {
                "source": path.source,
                "target": path.target,
                "max_hops": path.max_hops,
                "found": path.found,
                "length": path.length,
                "steps": path.steps,
            },
            context={"request": request},
        ).data
        return Response(data)


# --- Colour palettes ------------------------------------------------------------------------------


class ArtworkPaletteSerializer(serializers.Serializer):
    artwork = serializers.IntegerField(source="artwork_id")
    colours = PaletteColourSerializer(many=True)
    computed_at = serializers.DateTimeField()


class PickedColourSerializer(serializers.Serializer):
    hex = serializers.CharField()
    name = serializers.CharField()


class PaletteMatchSerializer(serializers.Serializer):
    score = serializers.FloatField(help_text="0..1: mean fit of the picked colours in the work's palette")
    artwork = ArtworkSummarySerializer()
    palette = PaletteColourSerializer(many=True, source="artwork.palette.colours")


class PaletteSearchSerializer(serializers.Serializer):
    colours = PickedColourSerializer(many=True)
    results = PaletteMatchSerializer(many=True)


class NoPalette(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This artwork has no palette yet. Run `manage.py fill_palettes` and try again."
    default_code = "no_palette"


class ArtworkPaletteApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Dominant colours of a catalogue work",
        description="k-means in CIELAB on a downscaled copy (deterministic); 5–6 colours with shares and names.",
        responses={
            200: ArtworkPaletteSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(ErrorSerializer, description="No palette computed for this work yet."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        if selectors.artwork_get_light(pk=pk) is None:
            raise exceptions.NotFound("No artwork with this id.")
        palette = palette_search.artwork_palette(artwork_id=pk)
        if palette is None or not palette.colours:
            raise NoPalette()
        return Response(ArtworkPaletteSerializer(palette).data)


class PaletteSearchApi(APIView):
    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        colours = serializers.CharField(
            help_text=f"1 to {palette_search.MAX_COLOURS} comma-separated sRGB colours, like 2a3fa0,e0b02c"
        )
        limit = serializers.IntegerField(required=False, default=24, min_value=1, max_value=100)

        def validate_colours(self, value: str) -> list:
            try:
                return palette_search.parse_colours(value.split(","))
            except ValueError as exc:
                raise serializers.ValidationError(str(exc)) from exc

    @extend_schema(
        summary="Catalogue works by colour",
        description=(
            "Works whose stored palettes hold all the picked colours, best first. A work's score is the mean "
            "over the picked colours of exp(-ΔE²/(2·15²)) × (0.5 + 0.5·min(1, share/0.2)) for its "
            "best-matching palette colour (ΔE: CIE76 distance in Lab)."
        ),
        parameters=[InputSerializer],
        responses={200: PaletteSearchSerializer, 400: INVALID_INPUT},
    )
    def get(self, request: Request) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        picked = params.validated_data["colours"]
        results = palette_search.artworks_by_palette(colours=picked, limit=params.validated_data["limit"])
        data = {
            "colours": [{"hex": c.hex, "name": c.name} for c in picked],
            "results": [{"score": round(score, 4), "artwork": artwork} for artwork, score in results],
        }
        return Response(PaletteSearchSerializer(data, context={"request": request}).data)


# --- The catalogue map ----------------------------------------------------------------------------


class MapPointsSerializer(serializers.Serializer):
    """Parallel arrays, one entry per work (compact: 11,670 works would be ~3× larger as objects)."""

    id = serializers.ListField(child=serializers.IntegerField(), help_text="Artwork ids")
    x = serializers.ListField(child=serializers.FloatField(), help_text="0..1, left to right")
    y = serializers.ListField(child=serializers.FloatField(), help_text="0..1, top to bottom")
    style = serializers.ListField(child=serializers.IntegerField(), help_text="Index into `styles`")
    title = serializers.ListField(child=serializers.CharField())
    painter = serializers.ListField(child=serializers.IntegerField(), help_text="Index into `painters`; -1 if unknown")
    year = serializers.ListField(child=serializers.IntegerField(allow_null=True))
    image = serializers.ListField(
        child=serializers.CharField(),
        help_text="URL of each work's catalogue image (a path on this site with local storage). " + PUBLIC_LINK,
    )


class MapLayoutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    model_version = serializers.CharField()
    method = serializers.CharField()
    point_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class MapStyleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class CatalogueMapSerializer(serializers.Serializer):
    layout = MapLayoutSerializer()
    styles = MapStyleSerializer(many=True)
    painters = serializers.ListField(child=serializers.CharField())
    artwork_url = serializers.CharField(
        help_text="Path of a work's page on this site (HTML): replace {id} with an id from `points`. " + PUBLIC_LINK
    )
    points = MapPointsSerializer()


class NoMap(exceptions.APIException):
    status_code = status.HTTP_404_NOT_FOUND
    default_detail = "No map of the active model's embeddings yet. Run `manage.py build_catalogue_map`."
    default_code = "no_map"


class CatalogueMapApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The map of the catalogue",
        description=(
            "Every embedded work's position on the 2-D t-SNE layout of the active model's embeddings, "
            "as parallel arrays. The same for everyone until the map is rebuilt: cached, with an ETag."
        ),
        responses={
            200: CatalogueMapSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No map was built."),
        },
    )
    def get(self, request: Request) -> HttpResponse:
        layout = map_read.map_layout_current()
        if layout is None:
            raise NoMap()
        etag = f'"map-{layout.pk}-{int(layout.created_at.timestamp())}"'
        if request.headers.get("If-None-Match") == etag:
            return HttpResponse(status=304, headers={"ETag": etag})
        # The serialised bytes come from the cache: rendering 11,670 rows through DRF each time costs ~100 ms.
        response = HttpResponse(map_read.map_payload_json(layout), content_type="application/json")
        response["ETag"] = etag
        response["Cache-Control"] = "public, max-age=300"
        return response


class MapPositionSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()
    layout = serializers.IntegerField(help_text="Id of the layout the position belongs to")
    neighbours = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the works it was placed among, closest first"
    )


class UploadMapPositionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Where one of your uploads falls on the catalogue map",
        description=(
            "Placed among its nearest catalogue works (pgvector): the similarity-weighted centre of those of "
            "its 10 nearest works that lie together on the map."
        ),
        responses={
            200: MapPositionSerializer,
            401: NOT_AUTHENTICATED,
            404: OpenApiResponse(ErrorSerializer, description="No such upload among yours, or no map yet."),
            409: OpenApiResponse(ErrorSerializer, description="The upload has no embedding of the map's model."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        upload = own_upload_or_404(request, pk, with_results=False)
        layout = map_read.map_layout_current()
        if layout is None:
            raise NoMap()
        if upload.embedding is None or upload.model_version != layout.model_version:
            raise NotPlaceable()
        position = map_read.upload_position(embedding=upload.embedding, layout=layout)
        if position is None:
            raise NotPlaceable()
        return Response(
            MapPositionSerializer(
                {"x": position.x, "y": position.y, "layout": layout.pk, "neighbours": position.neighbour_ids}
            ).data
        )


class NotPlaceable(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This upload has no embedding of the map's model (not analysed yet, or by another model)."
    default_code = "not_placeable"


# --- An upload's insights ---------------------------------------------------------------------------


class UploadInsightApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Palette, duplicate and heat map of one of your uploads",
        description=(
            "Computed by the worker in the analyse step. `duplicate_of` names the catalogue work the image is a "
            "copy, crop or photo of (perceptual hash and embedding distance together); it is then left out of the "
            "similar works. The heat map URL answers only the owner."
        ),
        responses={
            200: UploadInsightSerializer,
            401: NOT_AUTHENTICATED,
            404: OpenApiResponse(ErrorSerializer, description="No such upload among yours."),
            409: OpenApiResponse(ErrorSerializer, description="The upload is not analysed yet."),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        upload = own_upload_or_404(request, pk, with_results=False)
        insight = insights.upload_insight_get(upload_id=upload.pk)
        if insight is None:
            raise NotAnalysed()
        return Response(UploadInsightSerializer(insight, context={"request": request}).data)


class NotAnalysed(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This upload is not analysed yet; try again when its status is done."
    default_code = "not_analysed"
