"""The curators' admin. Painter and influence edits go through `services` so Neo4j stays in step."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet, Value
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from . import catalogue, services
from . import jobs as job_services
from .models import Artist, Artwork, Genre, Influence, Job, Match, Prediction, Style, StyleModelVersion, Upload

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


class _EmbeddingStateFilter(admin.SimpleListFilter):
    title = "embedding"
    parameter_name = "embedding_state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("embedded", "Embedded (active model)"), ("pending", "Pending"), ("failed", "Failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Artwork]) -> QuerySet[Artwork]:
        from recommender.versions import active_version

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
        from recommender.versions import active_version

        # The active version rides along on each row: one query per page, not one per row.
        return super().get_queryset(request).defer("embedding").annotate(active_version=Value(active_version()))

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
        from recommender.versions import active_version

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


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Background jobs (also on the staff jobs page, /staff/jobs/, with queue lengths and ETA)."""

    list_display = ["id", "kind", "status", "progress_text", "message", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["message", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are started by imports, switches and the embed action

    @admin.display(description="progress")
    def progress_text(self, obj: Job) -> str:
        return f"{obj.progress} / {obj.total} ({obj.percent}%)" if obj.total else str(obj.progress)

    @admin.action(description="Retry the selected failed or stalled jobs")
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = sum(job_services.job_retry(job_id=pk) for pk in queryset.values_list("id", flat=True))
        messages.info(request, f"{retried} jobs queued again (only failed or stalled jobs can be retried).")


class StyleModelVersionForm(forms.ModelForm):
    """Adding a version = choosing a trained artefact on disk and starting the switch to it."""

    version = forms.ChoiceField(help_text="Trained artefacts found under STYLE_MODEL_DIR on this host.")

    class Meta:
        model = StyleModelVersion
        fields = ["version"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from recommender.versions import available_versions

        self.fields["version"].choices = [(v, v) for v in available_versions()]

    def clean_version(self) -> str:
        from recommender.versions import active_version, version_pending

        version = self.cleaned_data["version"]
        if version == active_version():
            raise forms.ValidationError(f"{version} is already the active style model.")
        pending = version_pending()
        if pending and pending != version:
            raise forms.ValidationError(f"A switch to {pending} is still running; wait for it or retry it.")
        return version


@admin.register(StyleModelVersion)
class StyleModelVersionAdmin(admin.ModelAdmin):
    """Which style model search and uploads use; switching embeds the catalogue first (a Job)."""

    list_display = ["version", "state", "activated_at", "created_at"]
    list_filter = ["state"]
    actions = ["activate"]
    form = StyleModelVersionForm

    def get_readonly_fields(self, request: HttpRequest, obj: StyleModelVersion | None = None) -> list[str]:
        return ["version", "state", "activated_at", "created_at"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: StyleModelVersion, form: ModelForm, change: bool) -> None:
        if change:
            return
        from recommender.versions import version_activate

        # The form checked the version; a race with another curator raises here (a 500 is fine then).
        job = version_activate(version=form.cleaned_data["version"], user=request.user)
        obj.pk = StyleModelVersion.objects.get(version=form.cleaned_data["version"]).pk
        messages.success(request, f"Switch job #{job.pk} started: search keeps the active model until it is done.")

    @admin.action(description="Activate the selected version (embed the catalogue, then switch)")
    def activate(self, request: HttpRequest, queryset: QuerySet[StyleModelVersion]) -> None:
        from recommender.versions import version_activate

        if queryset.count() != 1:
            messages.error(request, "Select exactly one version to activate.")
            return
        try:
            job = version_activate(version=queryset.get().version, user=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
            return
        messages.success(request, f"Switch job #{job.pk} started; follow it on the jobs page.")


# --- Sign-in lockout (django-axes): staff unlock accounts and addresses here --------------------------

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class SignInAttemptAdmin(AccessAttemptAdmin):
    """Axes' list of failed sign-ins (filter "locked out"), with an action that unlocks at once."""

    actions = ["unlock"]

    @admin.action(description="Unlock: forget the selected failed sign-ins", permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        # An account or address is locked by its attempt rows; without them it may sign in again.
        who = sorted({f"{a.username or '?'} from {a.ip_address or '?'}" for a in queryset})
        queryset.delete()
        self.message_user(request, f"Unlocked: {', '.join(who)}.")
