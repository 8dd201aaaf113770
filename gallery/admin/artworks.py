"""Catalogue works: embedding state, "embed now", and importing a catalogue zip."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Value
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from recommender.versions import active_version

from .. import catalogue
from ..models import Artwork
from .display import thumbnail


class _EmbeddingStateFilter(admin.SimpleListFilter):
    title = "embedding"
    parameter_name = "embedding_state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("embedded", "Embedded (active model)"), ("pending", "Pending"), ("failed", "Failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Artwork]) -> QuerySet[Artwork]:

        value = self.value()
        if value == "embedded":
            return queryset.filter(embedding__isnull=False, embedding_version=active_version())
        if value == "failed":
            return queryset.exclude(embedding_error="")
        if value == "pending":
            stale = Q(embedding__isnull=True) | ~Q(embedding_version=active_version())
            return queryset.filter(stale, embedding_error="")
        return queryset


def _artwork_embedding_state(obj: Artwork, active: str) -> tuple[str, str]:
    """(state, words) for a curator: embedded / pending / failed, derived from the stored fields."""
    if obj.embedding_error:
        return "failed", f"failed: {obj.embedding_error}"
    if obj.embedding_version and obj.embedding_version == active:
        return "embedded", f"embedded with {obj.embedding_version}"
    if obj.embedding_version:
        return "pending", f"embedded with {obj.embedding_version}; pending for the active {active}"
    return "pending", "pending: a worker embeds it shortly"


class CatalogueArchiveForm(forms.Form):
    archive = forms.FileField(
        label="Catalogue zip",
        help_text="catalogue.csv (id, file, title, artist, style, genre, year, source), optional artists.csv and "
        "influences.csv, and the images catalogue.csv names (e.g. images/…). Existing ids are updated.",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


@admin.register(Artwork)
class ArtworkAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "display_title", "artist", "style", "genre", "year", "embedding_state"]
    list_display_links = ["thumbnail", "display_title"]
    list_select_related = ["artist", "style", "genre"]
    list_filter = [_EmbeddingStateFilter, "style", "genre", "embedding_version"]
    actions = ["embed_now"]
    change_list_template = "admin/gallery/artwork/change_list.html"
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

        # The active version rides along on each row: one query per page, not one per row.
        return super().get_queryset(request).defer("embedding").annotate(active_version=Value(active_version()))

    @admin.display(description="")
    def thumbnail(self, obj: Artwork) -> str:
        return thumbnail(obj.image)

    @admin.display(description="title", ordering="title")
    def display_title(self, obj: Artwork) -> str:
        return obj.display_title

    @admin.display(description="image")
    def preview(self, obj: Artwork) -> str:
        return thumbnail(obj.image, size=240)

    @admin.display(description="embedding")
    def embedding_status(self, obj: Artwork) -> str:

        return _artwork_embedding_state(obj, active_version())[1] if obj.pk else "—"

    @admin.display(description="embedding", ordering="embedding_version")
    def embedding_state(self, obj: Artwork) -> str:
        state, words = _artwork_embedding_state(obj, getattr(obj, "active_version", ""))
        badge = {"embedded": "badge-done", "failed": "badge-failed"}.get(state, "badge-running")
        return format_html('<span class="embedding-state {}" title="{}">{}</span>', badge, words, state)

    def save_model(self, request: HttpRequest, obj: Artwork, form: ModelForm, change: bool) -> None:
        catalogue.artwork_save(artwork=obj, image_changed=not change or "image" in form.changed_data)
        if not change or "image" in form.changed_data:
            messages.info(request, "The image is being embedded by a worker; the list shows when it is done.")

    @admin.action(description="Embed the selected artworks again (with the active model)")
    def embed_now(self, request: HttpRequest, queryset: QuerySet[Artwork]) -> None:
        count = catalogue.artworks_embed_again(artwork_ids=list(queryset.values_list("id", flat=True)))
        messages.success(request, f"{count} artworks queued for embedding.")

    def get_urls(self):
        urls = super().get_urls()
        return [
            path("import-zip/", self.admin_site.admin_view(self.import_zip_view), name="gallery_artwork_import_zip"),
            *urls,
        ]

    def import_zip_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CatalogueArchiveForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["archive"]
            try:
                job = catalogue.catalogue_archive_import(upload=upload, filename=upload.name, user=request.user)
            except catalogue.ArchiveRejected as exc:
                form.add_error("archive", str(exc))
            else:
                messages.success(request, f"Import job #{job.pk} started; follow it on the jobs page.")
                return redirect("jobs")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import a catalogue zip",
            "form": form,
        }
        return TemplateResponse(request, "admin/gallery/artwork/import_zip.html", context)
