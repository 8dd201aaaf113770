"""The curators' admin. Painter and influence edits go through `services` so Neo4j stays in step."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html

from . import services
from .models import Artist, Artwork, Genre, Influence, Match, Prediction, Style, Upload

admin.site.site_header = "artsite catalogue"
admin.site.site_title = "artsite admin"
admin.site.index_title = "Catalogue and uploads"


def _thumbnail(image: Any, size: int = 64) -> str:
    if not image:
        return "—"
    return format_html(
        '<img src="{}" alt="" width="{}" height="{}" loading="lazy" style="object-fit:cover;border-radius:4px">',
        image.url,
        size,
        size,
    )


def _embedding_status(obj: Artwork | Upload, version: str) -> str:
    # The 1280-d vector itself is useless in a form (and ~10 KB per row); say what produced it instead.
    if obj.embedding is None:
        return "not embedded yet"
    return f"embedded with {version}" if version else "embedded (version unknown)"


class _BirthCenturyFilter(admin.SimpleListFilter):
    title = "born in"
    parameter_name = "century"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(c), f"{c + 1}th century") for c in range(13, 21)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Artist]) -> QuerySet[Artist]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        start = int(value) * 100
        return queryset.filter(birth_year__gte=start, birth_year__lt=start + 100)


class _HasSourceFilter(admin.SimpleListFilter):
    title = "source given"
    parameter_name = "has_source"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Influence]) -> QuerySet[Influence]:
        if self.value() == "yes":
            return queryset.exclude(source="")
        if self.value() == "no":
            return queryset.filter(source="")
        return queryset


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "artwork_count"]
    search_fields = ["name", "description"]
    list_filter = [("description", admin.EmptyFieldListFilter)]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Style]:
        return super().get_queryset(request).annotate(artwork_count=Count("artworks"))

    @admin.display(description="works", ordering="artwork_count")
    def artwork_count(self, obj: Style) -> int:
        return obj.artwork_count


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "artwork_count"]
    search_fields = ["name"]
    list_filter = [("artworks__style", admin.RelatedOnlyFieldListFilter)]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Genre]:
        return super().get_queryset(request).annotate(artwork_count=Count("artworks", distinct=True))

    @admin.display(description="works", ordering="artwork_count")
    def artwork_count(self, obj: Genre) -> int:
        return obj.artwork_count


class _InfluenceInlineBase(admin.TabularInline):
    model = Influence
    extra = 0
    fields = ["artist", "influencer", "source"]


class InfluencedByInline(_InfluenceInlineBase):
    fk_name = "artist"
    verbose_name = "influenced by"
    verbose_name_plural = "influenced by"
    autocomplete_fields = ["influencer"]


class InfluencedInline(_InfluenceInlineBase):
    fk_name = "influencer"
    verbose_name = "influenced"
    verbose_name_plural = "influenced"
    autocomplete_fields = ["artist"]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["name", "lifespan", "nationality", "artwork_count", "slug"]
    search_fields = ["name", "slug", "nationality", "movements"]
    list_filter = [_BirthCenturyFilter]
    inlines = [InfluencedByInline, InfluencedInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artist]:
        return super().get_queryset(request).annotate(artwork_count=Count("artworks"))

    @admin.display(description="works", ordering="artwork_count")
    def artwork_count(self, obj: Artist) -> int:
        return obj.artwork_count

    def get_readonly_fields(self, request: HttpRequest, obj: Artist | None = None) -> list[str]:
        # The slug is the painter's key in Neo4j and in URLs people shared: fixed once created.
        return ["slug"] if obj is not None else []

    def get_prepopulated_fields(self, request: HttpRequest, obj: Artist | None = None) -> dict[str, list[str]]:
        return {} if obj is not None else {"slug": ["name"]}

    def save_model(self, request: HttpRequest, obj: Artist, form: ModelForm, change: bool) -> None:
        services.artist_save(artist=obj)

    def delete_model(self, request: HttpRequest, obj: Artist) -> None:
        services.artist_delete(artist=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Artist]) -> None:
        # One service call per painter (not queryset.delete()) so each graph node is removed too.
        for artist in queryset:
            services.artist_delete(artist=artist)

    def save_formset(self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool) -> None:
        if formset.model is not Influence:
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)  # commit=False leaves deletions to us as well
        for influence in formset.deleted_objects:
            services.influence_delete(influence=influence)
        for influence in instances:
            services.influence_save(influence=influence)
        formset.save_m2m()


@admin.register(Influence)
class InfluenceAdmin(admin.ModelAdmin):
    list_display = ["artist", "influencer", "source"]
    list_select_related = ["artist", "influencer"]
    search_fields = ["artist__name", "influencer__name", "source"]
    list_filter = [_HasSourceFilter]
    autocomplete_fields = ["artist", "influencer"]

    def save_model(self, request: HttpRequest, obj: Influence, form: ModelForm, change: bool) -> None:
        services.influence_save(influence=obj)

    def delete_model(self, request: HttpRequest, obj: Influence) -> None:
        services.influence_delete(influence=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Influence]) -> None:
        for influence in queryset.select_related("artist", "influencer"):
            services.influence_delete(influence=influence)


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "display_title", "artist", "style", "genre", "year", "embedding_version"]
    list_display_links = ["thumbnail", "display_title"]
    list_select_related = ["artist", "style", "genre"]
    list_filter = ["style", "genre", "embedding_version"]
    search_fields = ["title", "source_id", "artist__name"]
    autocomplete_fields = ["artist"]
    readonly_fields = ["preview", "embedding_status", "created_at"]
    fields = [
        "preview",
        "image",
        "source_id",
        "title",
        "artist",
        "style",
        "genre",
        "year",
        "source",
        "embedding_status",
        "created_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Artwork]:
        # The change list shows 100 rows; loading their vectors would be ~1 MB for nothing. The change
        # page's status line loads the one vector it needs on access.
        return super().get_queryset(request).defer("embedding")

    @admin.display(description="")
    def thumbnail(self, obj: Artwork) -> str:
        return _thumbnail(obj.image)

    @admin.display(description="title", ordering="title")
    def display_title(self, obj: Artwork) -> str:
        return obj.display_title

    @admin.display(description="image")
    def preview(self, obj: Artwork) -> str:
        return _thumbnail(obj.image, size=240)

    @admin.display(description="embedding")
    def embedding_status(self, obj: Artwork) -> str:
        return _embedding_status(obj, obj.embedding_version)


class PredictionInline(admin.TabularInline):
    model = Prediction
    extra = 0
    can_delete = False
    fields = readonly_fields = ["rank", "style", "probability", "model_version"]

    def has_add_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        return False  # results are written by the worker only


class MatchInline(admin.TabularInline):
    model = Match
    extra = 0
    can_delete = False
    fields = readonly_fields = ["rank", "artwork", "visual_score", "influence_score", "final_score", "influence_path"]

    def has_add_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        return False


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "id", "owner", "status", "stage", "progress", "model_version", "created_at"]
    list_display_links = ["thumbnail", "id"]
    list_select_related = ["owner"]
    list_filter = ["status", "stage", "influence_skipped", "created_at"]
    search_fields = ["owner__username", "original_filename", "artist_hint", "source_url"]
    raw_id_fields = ["owner"]
    autocomplete_fields = ["query_artist"]
    date_hierarchy = "created_at"
    readonly_fields = ["preview", "embedding_status", "created_at", "updated_at", "finished_at"]
    exclude = ["embedding"]
    inlines = [PredictionInline, MatchInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Upload]:
        return super().get_queryset(request).defer("embedding")

    @admin.display(description="")
    def thumbnail(self, obj: Upload) -> str:
        return _thumbnail(obj.image)

    @admin.display(description="image")
    def preview(self, obj: Upload) -> str:
        return _thumbnail(obj.image, size=240)

    @admin.display(description="embedding")
    def embedding_status(self, obj: Upload) -> str:
        return _embedding_status(obj, obj.model_version)


@admin.register(Prediction)
class PredictionAdmin(admin.ModelAdmin):
    list_display = ["upload", "rank", "style", "probability", "model_version"]
    list_select_related = ["upload", "style"]
    list_filter = ["style", "rank", "model_version"]
    search_fields = ["upload__owner__username", "style__name", "model_version"]
    raw_id_fields = ["upload"]


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = ["upload", "rank", "artwork", "visual_score", "influence_score", "final_score"]
    list_select_related = ["upload", "artwork"]
    list_filter = ["rank", "artwork__style"]
    search_fields = ["upload__owner__username", "artwork__title", "artwork__artist__name"]
    raw_id_fields = ["upload", "artwork"]
