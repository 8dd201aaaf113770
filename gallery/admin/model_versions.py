"""Style-model versions: which is active, and switching to another (recommender.versions)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from recommender.versions import active_version, available_versions, version_activate, version_pending

from ..models import StyleModelVersion


class StyleModelVersionForm(forms.ModelForm):
    """Adding a version = choosing a trained artefact on disk and starting the switch to it."""

    version = forms.ChoiceField(help_text="Trained artefacts found under STYLE_MODEL_DIR on this host.")

    class Meta:
        model = StyleModelVersion
        fields = ["version"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)

        self.fields["version"].choices = [(v, v) for v in available_versions()]

    def clean_version(self) -> str:

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

        # The form checked the version; a race with another curator raises here (a 500 is fine then).
        job = version_activate(version=form.cleaned_data["version"], user=request.user)
        obj.pk = StyleModelVersion.objects.get(version=form.cleaned_data["version"]).pk
        messages.success(request, f"Switch job #{job.pk} started: search keeps the active model until it is done.")

    @admin.action(description="Activate the selected version (embed the catalogue, then switch)")
    def activate(self, request: HttpRequest, queryset: QuerySet[StyleModelVersion]) -> None:

        if queryset.count() != 1:
            messages.error(request, "Select exactly one version to activate.")
            return
        try:
            job = version_activate(version=queryset.get().version, user=request.user)
        except ValueError as exc:
            messages.error(request, str(exc))
            return
        messages.success(request, f"Switch job #{job.pk} started; follow it on the jobs page.")
