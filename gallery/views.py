"""Catalogue pages (home, browse, artwork, painters) and sign-up. Reads go through `selectors`."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors
from .forms import ArtistSearchForm, ArtworkFilterForm, SignUpForm

ARTWORKS_PER_PAGE = 24
ARTISTS_PER_PAGE = 30
MORE_BY_ARTIST = 8


def _page(request: HttpRequest, qs: QuerySet, per_page: int) -> Page:
    """The requested page; get_page() turns a missing, non-numeric or out-of-range number into a valid one."""
    page = Paginator(qs, per_page).get_page(request.GET.get("page"))
    # Templates cannot call methods with arguments: "1 2 … 7 8 9 … 40" is computed here.
    page.elided_range = list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
    return page


def _split(value: str) -> list[str]:
    """Artist.nationality and .movements hold ';'-separated values (see the model's help text)."""
    return [part.strip() for part in value.split(";") if part.strip()]


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    styles = list(selectors.styles_with_counts())
    for style in styles:
        # The selector gives a storage name; the storage (local or S3) decides the URL.
        style.cover_url = default_storage.url(style.cover_image) if style.cover_image else ""
    return render(request, "gallery/home.html", {"styles": styles, "counts": selectors.catalogue_counts()})


@require_GET
def artwork_list(request: HttpRequest) -> HttpResponse:
    form = ArtworkFilterForm(request.GET)
    filters = form.filters()
    page = _page(request, selectors.artwork_list(**filters), ARTWORKS_PER_PAGE)
    return render(
        request,
        "gallery/artwork_list.html",
        {
            "form": form,
            "filters": filters,
            "page_obj": page,
            "styles": selectors.styles_with_counts(),
        },
    )


@require_GET
def artwork_detail(request: HttpRequest, pk: int) -> HttpResponse:
    artwork = selectors.artwork_get(pk=pk)
    if artwork is None:
        raise Http404("No such artwork")
    more = (
        selectors.artworks_by_artist(artist=artwork.artist, exclude_pk=artwork.pk, limit=MORE_BY_ARTIST)
        if artwork.artist
        else []
    )
    return render(request, "gallery/artwork_detail.html", {"artwork": artwork, "more_by_artist": more})


@require_GET
def artist_list(request: HttpRequest) -> HttpResponse:
    form = ArtistSearchForm(request.GET)
    q = form.query()
    page = _page(request, selectors.artists_list(q=q), ARTISTS_PER_PAGE)
    for artist in page.object_list:
        artist.nationality_display = ", ".join(_split(artist.nationality))
    return render(request, "gallery/artist_list.html", {"form": form, "q": q, "page_obj": page})


@require_GET
def artist_detail(request: HttpRequest, slug: str) -> HttpResponse:
    artist = selectors.artist_get_by_slug(slug=slug)
    if artist is None:
        raise Http404("No such painter")
    page = _page(request, selectors.artwork_list(artist=artist.slug), ARTWORKS_PER_PAGE)
    return render(
        request,
        "gallery/artist_detail.html",
        {
            "artist": artist,
            "nationalities": _split(artist.nationality),
            "movements": _split(artist.movements),
            "styles": selectors.artist_style_counts(artist=artist),
            "influences": selectors.artist_influences(artist),
            "page_obj": page,
        },
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign the new user in straight away."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # UserCreationForm.save() is Django's own contract for creating a user (hashing, validators).
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome, {user.get_username()}! Your account is ready.")
        return redirect(_next_url(request) or settings.LOGIN_REDIRECT_URL)
    return render(request, "registration/signup.html", {"form": form, "next": _next_url(request)})
