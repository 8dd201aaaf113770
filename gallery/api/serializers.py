"""Output shapes shared by several API views. Input serializers live on their views (HackSoft style).

Every serializer here is read-only and renders rows the selectors already loaded (select_related /
prefetch_related): none of them runs a query per row. Image URLs are absolute when the view passes
`request` in the serializer context, which all API views do.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gallery.models import Upload
from recommender.insights import upload_insight_get

# Who may open each URL field, and for how long: said once here, shown in /api/docs/ beside each field.
# tests/gallery/test_api_links.py fetches every URL of every response with the token that got it.
PUBLIC_LINK = "Public: opens for anyone, with or without a token, and does not expire."
OWNER_LINK = (
    "Opens only for the upload's owner: send the same `Authorization: Token` (or session) that got this "
    "response; anyone else gets 404. Works as long as the token and the upload do."
)
UPLOAD_IMAGE_LINK = (
    "With local storage this site serves it to the owner only: send the same token (or session) that "
    "got this response; anyone else gets 404; it works as long as the token and the upload do. With S3 "
    "storage it is a signed URL that opens for whoever holds it, for "
    f"{settings.PRIVATE_MEDIA_URL_EXPIRE_S} s: read the upload again for a fresh one."
)
HEATMAP_LINK = (
    f"{OWNER_LINK} With S3 storage the answer is a redirect to a signed URL of the file, valid for "
    f"{settings.PRIVATE_MEDIA_URL_EXPIRE_S} s."
)


class ErrorSerializer(serializers.Serializer):
    """The body of every non-field error (401, 403, 404, 409, 429)."""

    detail = serializers.CharField()


class StyleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class ArtistRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()


class ArtworkSummarySerializer(serializers.Serializer):
    """A painting as it appears inside matches: enough to show a card and follow the link."""

    id = serializers.IntegerField()
    title = serializers.CharField(help_text="Empty for untitled works")
    artist = ArtistRefSerializer(allow_null=True)
    style = StyleRefSerializer()
    image = serializers.ImageField(help_text=f"Absolute URL of the catalogue image (JPEG). {PUBLIC_LINK}")
    url = serializers.HyperlinkedIdentityField(
        view_name="api:artwork_detail", help_text=f"This artwork in the API. {PUBLIC_LINK}"
    )


class ArtworkSerializer(ArtworkSummarySerializer):
    genre = serializers.CharField(source="genre.name", allow_null=True, default=None)
    year = serializers.IntegerField(allow_null=True)
    source = serializers.CharField(help_text="Where the catalogue entry comes from")
    embedding_version = serializers.CharField(help_text="Model version of the stored embedding; empty if none")
    page_url = serializers.SerializerMethodField(help_text=f"The artwork's page on the website (HTML). {PUBLIC_LINK}")

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, artwork) -> str:
        request = self.context.get("request")
        path = artwork.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class MatchSerializer(serializers.Serializer):
    """One similar catalogue work. Reads stored Match rows and recommender.ranking.RankedMatch alike."""

    rank = serializers.IntegerField(help_text="1 = best")
    artwork = ArtworkSummarySerializer()
    visual_score = serializers.FloatField(help_text="Cosine similarity of the embeddings")
    influence_score = serializers.FloatField(help_text="Painter-influence score (0 when unknown)")
    final_score = serializers.FloatField(help_text="What the ranking is ordered by")
    influence_path = serializers.ListField(
        child=serializers.CharField(), help_text="Painter names along the influence path used, if any"
    )


class PredictionSerializer(serializers.Serializer):
    rank = serializers.IntegerField(help_text="1 = most probable")
    style = StyleRefSerializer()
    probability = serializers.FloatField()


class UploadStatusSerializer(serializers.Serializer):
    """Where an upload's analysis is: what a client polls (one query) before reading `url` once."""

    id = serializers.IntegerField()
    url = serializers.HyperlinkedIdentityField(
        view_name="api:upload_detail", help_text=f"The upload with its results. {OWNER_LINK}"
    )
    status = serializers.ChoiceField(choices=Upload.Status.choices)
    stage = serializers.ChoiceField(choices=Upload.Stage.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    error = serializers.CharField(help_text="Why the analysis failed, for people; empty otherwise")
    finished_at = serializers.DateTimeField(allow_null=True)


class UploadListItemSerializer(serializers.Serializer):
    """An upload without its matches (the list stays light); the detail adds `matches`."""

    id = serializers.IntegerField()
    url = serializers.HyperlinkedIdentityField(
        view_name="api:upload_detail", help_text=f"The upload with its results. {OWNER_LINK}"
    )
    status = serializers.ChoiceField(choices=Upload.Status.choices)
    stage = serializers.ChoiceField(choices=Upload.Stage.choices)
    stage_label = serializers.CharField(source="get_stage_display", help_text="The stage in words")
    progress = serializers.IntegerField(min_value=0, max_value=100)
    error = serializers.CharField(help_text="Why the analysis failed, for people; empty otherwise")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    image = serializers.ImageField(help_text=f"Absolute URL of the stored (normalised JPEG) image. {UPLOAD_IMAGE_LINK}")
    original_filename = serializers.CharField()
    source_url = serializers.CharField(
        help_text="The address the image was fetched from, if sent as a URL; empty otherwise. Not this site's: "
        "it opens for whoever that server lets in, and the API never needs it again."
    )
    artist_hint = serializers.CharField(help_text="The painter the user named, if any")
    model_version = serializers.CharField()
    query_artist = ArtistRefSerializer(
        allow_null=True, help_text="Painter used for influence re-ranking (named or inferred)"
    )
    influence_skipped = serializers.BooleanField(
        help_text="True when the influence graph was unavailable and matches are in visual order only"
    )
    predictions = PredictionSerializer(many=True, help_text="Styles, most probable first")


# --- An upload's insights (recommender.insights): also served alone by gallery.api.explore ---------


class PaletteColourSerializer(serializers.Serializer):
    hex = serializers.CharField(help_text="sRGB, like #c48f2c")
    name = serializers.CharField(help_text="Nearest of the site's colour names")
    share = serializers.FloatField(help_text="Fraction of the painting's pixels, 0..1 (a palette's shares sum to 1)")
    l = serializers.FloatField(help_text="CIELAB L* (D65)")  # noqa: E741
    a = serializers.FloatField(help_text="CIELAB a*")
    b = serializers.FloatField(help_text="CIELAB b*")


class DuplicateSerializer(serializers.Serializer):
    artwork = ArtworkSummarySerializer(source="duplicate_of")
    similarity = serializers.FloatField(source="duplicate_similarity", help_text="Cosine similarity of the embeddings")
    hash_distance = serializers.IntegerField(
        source="duplicate_hash_distance", allow_null=True, help_text="Differing bits of the 64-bit perceptual hashes"
    )


class PaintingSerializer(serializers.Serializer):
    source = serializers.CharField(
        source="painting_source",
        help_text="What was analysed: `detected` (the painting found in the photo), `person` (the corners "
        "sent with a re-analysis), `whole` (the whole photo, as asked) or `none` (no frame found: the whole image)",
    )
    corners = serializers.ListField(
        source="painting_corners",
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        allow_null=True,
        help_text="[[x, y]] × 4 as fractions of the image's width and height, clockwise from the top-left; "
        "null when the whole image was analysed. Send corrected ones to /api/uploads/{id}/reanalyse/.",
    )
    confidence = serializers.FloatField(
        source="painting_confidence", allow_null=True, help_text="How sure the detector is, 0..1"
    )
    image_url = serializers.SerializerMethodField(
        help_text=f"The straightened painting that was analysed (JPEG); null when nothing was cut out. {HEATMAP_LINK}"
    )

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_image_url(self, insight) -> str | None:
        if not insight.painting:
            return None
        return self.context["request"].build_absolute_uri(reverse("gallery:upload_painting", args=[insight.upload_id]))


class UploadInsightSerializer(serializers.Serializer):
    painting = serializers.SerializerMethodField(help_text="Which part of the photo was analysed")
    palette = PaletteColourSerializer(many=True)
    duplicate_of = serializers.SerializerMethodField(help_text="The catalogue work this is a copy of, or null")
    heatmap_url = serializers.SerializerMethodField(
        help_text=f"Grad-CAM overlay of the top style (JPEG), or null. {HEATMAP_LINK}"
    )
    heatmap_style = serializers.CharField(help_text="The style the heat map explains")
    heatmap_ms = serializers.FloatField(
        allow_null=True,
        help_text="Time drawing the heat map took in the worker (its gradient comes with the analysis pass)",
    )

    @extend_schema_field(PaintingSerializer)
    def get_painting(self, insight) -> dict:
        return PaintingSerializer(insight, context=self.context).data

    @extend_schema_field(DuplicateSerializer(allow_null=True))
    def get_duplicate_of(self, insight) -> dict | None:
        if insight.duplicate_of is None:
            return None
        return DuplicateSerializer(insight, context=self.context).data

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_heatmap_url(self, insight) -> str | None:
        if not insight.heatmap:
            return None
        return self.context["request"].build_absolute_uri(reverse("gallery:upload_heatmap", args=[insight.upload_id]))


class UploadSerializer(UploadListItemSerializer):
    """An upload with its results: style predictions and similar catalogue works (empty until done)."""

    matches = MatchSerializer(many=True, help_text="Similar catalogue works, best first")
    insights = serializers.SerializerMethodField(
        help_text="Palette, the catalogue work it is a copy of, and the heat map; null until analysed "
        "(also at /api/uploads/{id}/insights/)"
    )

    @extend_schema_field(UploadInsightSerializer(allow_null=True))
    def get_insights(self, upload) -> dict | None:
        # One query, for the detail only (the list serializer has no insights): the row is not on the
        # selector's prefetch because only this view and the results page read it.
        if getattr(upload, "_no_results_yet", False):  # gallery.selectors.upload_created_view
            return None
        insight = upload_insight_get(upload_id=upload.pk)
        return UploadInsightSerializer(insight, context=self.context).data if insight else None


class SimilarWorksSerializer(serializers.Serializer):
    query_artist = ArtistRefSerializer(allow_null=True)
    influence_skipped = serializers.BooleanField(
        help_text="True when the influence graph was unavailable and matches are in visual order only"
    )
    matches = MatchSerializer(many=True)


class StyleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.SlugField()
    description = serializers.CharField()
    artwork_count = serializers.IntegerField(help_text="Catalogue works in this style")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


class ArtistSerializer(serializers.Serializer):
    """A painter; `artwork_count` comes from the selector's annotation."""

    id = serializers.IntegerField()
    url = serializers.HyperlinkedIdentityField(
        view_name="api:artist_detail", help_text=f"This painter in the API, with influences. {PUBLIC_LINK}"
    )
    name = serializers.CharField()
    slug = serializers.SlugField()
    birth_year = serializers.IntegerField(allow_null=True)
    death_year = serializers.IntegerField(allow_null=True)
    nationalities = serializers.SerializerMethodField()
    movements = serializers.SerializerMethodField()
    artwork_count = serializers.IntegerField()

    def get_nationalities(self, artist) -> list[str]:
        return _split(artist.nationality)

    def get_movements(self, artist) -> list[str]:
        return _split(artist.movements)


class ArtistDetailSerializer(ArtistSerializer):
    """A painter with both directions of influence; needs `influences` (gallery.selectors.ArtistInfluences)
    in the serializer context, so the two lists come from two selector queries, not from the model."""

    influenced_by = serializers.SerializerMethodField(help_text="Painters who influenced this painter")
    influenced = serializers.SerializerMethodField(help_text="Painters this painter influenced")

    @extend_schema_field(ArtistRefSerializer(many=True))
    def get_influenced_by(self, artist) -> list[dict]:
        return ArtistRefSerializer(self.context["influences"].influenced_by, many=True).data

    @extend_schema_field(ArtistRefSerializer(many=True))
    def get_influenced(self, artist) -> list[dict]:
        return ArtistRefSerializer(self.context["influences"].influenced, many=True).data
