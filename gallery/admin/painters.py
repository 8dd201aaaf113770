"""Painters and influences. Edits go through gallery.services, so the Neo4j mirror follows them."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from .. import services
from ..models import Artist, Influence


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
