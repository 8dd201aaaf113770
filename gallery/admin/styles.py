"""Styles and genres."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from ..models import Genre, Style


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
