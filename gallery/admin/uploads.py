"""People's uploads with their predictions and matches (read-only for curators)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from ..models import Match, Prediction, Upload
from .display import embedding_status, thumbnail


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
        return thumbnail(obj.image)

    @admin.display(description="image")
    def preview(self, obj: Upload) -> str:
        return thumbnail(obj.image, size=240)

    @admin.display(description="embedding")
    def embedding_status(self, obj: Upload) -> str:
        return embedding_status(obj, obj.model_version)


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
