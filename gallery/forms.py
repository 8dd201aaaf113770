"""Forms of the catalogue pages and accounts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from . import selectors
from .models import Artist, Style


class _SlugChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Artist | Style) -> str:
        return obj.name


class ArtworkFilterForm(forms.Form):
    """The Browse page's filters. Invalid values are dropped, never an error page (links get mangled)."""

    q = forms.CharField(
        required=False, max_length=200, label="Title", widget=forms.SearchInput(attrs={"placeholder": "Search titles…"})
    )
    style = _SlugChoiceField(
        queryset=Style.objects.all(), to_field_name="slug", required=False, empty_label="All styles"
    )
    artist = _SlugChoiceField(queryset=Artist.objects.none(), to_field_name="slug", required=False, label="Painter")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["artist"].queryset = selectors.artists_with_works()
        self.fields["artist"].empty_label = "All painters"

    def filters(self) -> dict[str, str | None]:
        """Keyword arguments for `selectors.artwork_list` from the fields that validated."""
        self.is_valid()
        data = self.cleaned_data
        style, artist = data.get("style"), data.get("artist")
        return {
            "style": style.slug if style else None,
            "artist": artist.slug if artist else None,
            "q": data.get("q") or None,
        }

    @property
    def active(self) -> bool:
        return any(self.filters().values())


class ArtistSearchForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Name",
        widget=forms.SearchInput(attrs={"placeholder": "Search painters…"}),
    )

    def query(self) -> str | None:
        self.is_valid()
        return self.cleaned_data.get("q") or None


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Used only to reset your password.")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        # One account per address, whatever its case, so that password reset reaches one person.
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email address already exists.")
        return email
