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


class UploadForm(forms.Form):
    """A painting to analyse: a file or a public image address, and optionally the painter's name.

    Only the shape of the input is checked here; the image itself is checked by `services.upload_create`
    (ImageRejected), whose message the view attaches to the field that carried the image.
    """

    # Phones name HEIC files by extension only (an empty MIME type in most browsers): both are listed.
    ACCEPT = "image/jpeg,image/png,image/webp,image/heic,image/heif,image/avif,.heic,.heif,.avif"

    image = forms.FileField(
        required=False,
        label="Image file",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    url = forms.URLField(
        required=False,
        max_length=2000,
        assume_scheme="https",
        label="…or an image address",
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/painting.jpg"}),
    )
    artist = forms.CharField(
        required=False,
        max_length=200,
        label="Painter, if you know it",
        help_text="Used to rank similar works by who influenced whom; leave empty and we infer it.",
        widget=forms.TextInput(attrs={"list": "painter-names", "autocomplete": "off"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("image") and data.get("url"):
            raise forms.ValidationError("Choose a file or give an address, not both.")
        if not data.get("image") and not data.get("url") and not self.has_error("image") and not self.has_error("url"):
            self.add_error("image", "Choose an image file, drop one here, or give an image address.")
        return data

    @property
    def image_field(self) -> str:
        """The field the image came through: where an ImageRejected message belongs."""
        return "url" if self.cleaned_data.get("url") else "image"
