"""API of the exploration features: paths between painters, palette search, the map of the catalogue.

Same contract as gallery.api.views: nested Input serializers validate, one selector answers, output
serializers render; errors are JSON (`{"detail": ...}` or `{"field": [...]}`).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery.painter_paths import DEFAULT_MAX_HOPS, MAX_HOPS_LIMIT, PathInputError, painter_path
from recommender import graph

from . import selectors
from .serializers import ArtistRefSerializer, ArtworkSummarySerializer, ErrorSerializer
from .views import INVALID_INPUT, NOT_FOUND


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
