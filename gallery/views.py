"""Catalogue pages (home, browse, artwork, painters), sign-up, and a signed-in person's uploads.

Reads go through `selectors` (catalogue, and uploads with their results);
writes through `services`. Nothing here imports `recommender.ml` or TensorFlow: pages read stored
predictions and embeddings, and "similar to this" is pgvector plus one Neo4j query.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from recommender.ranking import similar_works  # pgvector + Neo4j only; no TensorFlow in the web process

from . import selectors, services, tokens, upload_events
from .fetch import FetchBusy
from .forms import ArtistSearchForm, ArtworkFilterForm, SignUpForm, UploadForm
from .images import MAX_SIDE, ImageRejected, human_size
from .models import Upload

ARTWORKS_PER_PAGE = 24
ARTISTS_PER_PAGE = 30
MORE_BY_ARTIST = 8
SIMILAR_TO_ARTWORK = 8
UPLOADS_PER_PAGE = 12
TOP_STYLES_SHOWN = 5


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
    # Computed live (not stored): the catalogue's embeddings change only when it is re-embedded.
    similar = (
        similar_works(artwork.embedding, query_artist=artwork.artist, exclude_ids=[artwork.pk], k=SIMILAR_TO_ARTWORK)
        if artwork.embedding is not None
        else None
    )
    return render(
        request,
        "gallery/artwork_detail.html",
        {"artwork": artwork, "more_by_artist": more, "similar": similar},
    )


@require_GET
def artist_list(request: HttpRequest) -> HttpResponse:
    form = ArtistSearchForm(request.GET)
    q = form.query()
    page = _page(request, selectors.artist_list(q=q), ARTISTS_PER_PAGE)
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


@never_cache  # a new token is shown in this response only: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def account_tokens(request: HttpRequest) -> HttpResponse:
    """The person's API tokens: when each was made and expires; make one (shown once) or revoke."""
    new_token = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            try:
                _, new_token = tokens.token_create(user=request.user)
            except tokens.TokenLimitReached:
                messages.error(request, "You have as many tokens as allowed; revoke one you no longer use first.")
        elif action == "revoke":
            key = request.POST.get("token_key", "")
            if tokens.token_revoke(user=request.user, token_key=key):
                messages.success(request, f"Revoked the token starting “{key}”. Programs using it are signed out.")
            else:
                messages.error(request, "No such token among yours (it may have expired or been revoked already).")
            return redirect("account_tokens")
        elif action == "revoke_all":
            count = tokens.token_revoke_all(user=request.user)
            messages.success(request, f"Revoked all your tokens ({count}).")
            return redirect("account_tokens")
        else:
            return HttpResponse("Unknown action.", status=400, content_type="text/plain")
    return render(
        request,
        "account/tokens.html",
        {
            "tokens": tokens.token_list(user=request.user),
            "new_token": new_token,
            "ttl_days": settings.REST_KNOX["TOKEN_TTL"].days,
        },
    )


# --- Uploads -----------------------------------------------------------------------------------


def upload_or_404(request: HttpRequest, pk: int, *, with_results: bool = True) -> Upload:
    """One of the signed-in person's uploads; someone else's answers 404 exactly like a missing one."""
    upload = selectors.upload_get(owner=request.user, pk=pk, with_results=with_results)
    if upload is None:
        raise Http404("No upload with this id among yours")
    return upload


def _limits() -> dict[str, str | int]:
    return {
        "max_size": human_size(settings.UPLOAD_MAX_BYTES),
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_megapixels": settings.UPLOAD_MAX_PIXELS // 1_000_000,
        "max_side": MAX_SIDE,
    }


@login_required
@require_http_methods(["GET", "POST"])
def upload_create(request: HttpRequest) -> HttpResponse:
    """The upload form; a valid image is stored and queued, and the person lands on its page at once."""
    form = UploadForm(request.POST or None, request.FILES or None)
    busy: FetchBusy | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            upload = services.upload_create(
                owner=request.user, image_file=data["image"], url=data["url"], artist_hint=data["artist"]
            )
        except ImageRejected as exc:
            form.add_error(form.image_field, str(exc))
        except FetchBusy as exc:
            busy = exc
            form.add_error("url", str(exc))
        else:
            return redirect(upload)
    response = render(
        request,
        "gallery/upload_create.html",
        {"form": form, "limits": _limits(), "painters": selectors.artists_with_works()},
        status=503 if busy else 400 if form.errors else 200,
    )
    if busy:
        response["Retry-After"] = str(busy.retry_after_s)
    return response


PIPELINE_STEPS = [
    (Upload.Stage.QUEUED, "Queued"),
    (Upload.Stage.CLASSIFYING, "Classifying"),
    (Upload.Stage.MATCHING, "Matching"),
    (Upload.Stage.DONE, "Done"),
]


def _pipeline_steps(upload: Upload) -> list[dict[str, str]]:
    """The four steps, each "done", "current", "failed" or "todo", for the progress tracker."""
    keys = [key for key, _ in PIPELINE_STEPS]
    if upload.stage in keys:
        reached = keys.index(upload.stage)
    else:
        # A failed upload no longer records its step; progress does (classifying starts at 10, matching at 60).
        reached = keys.index(Upload.Stage.MATCHING if upload.progress >= 60 else Upload.Stage.CLASSIFYING)
    steps = []
    for i, (key, label) in enumerate(PIPELINE_STEPS):
        if i < reached or upload.status == Upload.Status.DONE:
            state = "done"
        elif i == reached:
            state = "failed" if upload.status == Upload.Status.FAILED else "current"
        else:
            state = "todo"
        steps.append({"key": key, "label": label, "state": state})
    return steps


def _status_payload(upload: Upload) -> dict[str, object]:
    """What the page renders first and its script polls; `steps` carries each step's state, so the
    script moves the tracker without a copy of PIPELINE_STEPS or of the rules above."""
    return {
        "id": upload.pk,
        "status": upload.status,
        "stage": upload.stage,
        "stage_label": upload.get_stage_display(),
        "progress": upload.progress,
        "error": upload.error,
        "finished": upload.is_finished,
        "steps": _pipeline_steps(upload),
    }


def _painter_named(upload: Upload) -> bool:
    """Whether the ranking used the painter the person named (else it was inferred from the neighbours)."""
    hint, painter = upload.artist_hint.strip(), upload.query_artist
    if not hint or painter is None:
        return False
    return hint.casefold() == painter.name.casefold() or slugify(hint) == painter.slug


class UploadResults:
    """The results part of an upload page, computed on first use only.

    A finished upload never changes until it is re-run (which bumps `updated_at`), so the page caches
    the rendered results per (upload, updated_at); on a cache hit none of these queries run.
    """

    def __init__(self, upload: Upload) -> None:
        self.upload = upload

    @cached_property
    def predictions(self) -> list:
        predictions = list(self.upload.predictions.select_related("style").order_by("rank")[:TOP_STYLES_SHOWN])
        for prediction in predictions:
            prediction.percent = prediction.probability * 100
        return predictions

    @cached_property
    def top_style(self):
        return self.predictions[0].style if self.predictions else None

    @cached_property
    def famous_painters(self) -> list:
        return list(selectors.style_famous_painters(style=self.top_style)) if self.top_style else []

    @cached_property
    def matches(self) -> list:
        return list(
            self.upload.matches.select_related("artwork__artist", "artwork__style")
            .defer("artwork__embedding")
            .order_by("rank")
        )


@login_required
@require_GET
def upload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Live status while the pipeline runs; the style prediction and similar works once it is done."""
    upload = upload_or_404(request, pk, with_results=False)
    status = _status_payload(upload)
    return render(
        request,
        "gallery/upload_detail.html",
        {
            "upload": upload,
            "status": status,
            "steps": status["steps"],
            "results": UploadResults(upload),
            "painter_named": _painter_named(upload),
        },
    )


@never_cache
@login_required
@require_GET
def upload_status(request: HttpRequest, pk: int) -> JsonResponse:
    """What the upload page polls: status, stage, progress, error, finished. With `?wait=` seconds
    (and `?progress=` last seen) it answers once the upload moves or finishes (gallery.upload_events)."""
    try:
        query = upload_events.wait_query(request.GET)
    except upload_events.WaitQueryRejected as exc:
        return JsonResponse({exc.field: [str(exc)]}, status=400)
    upload = upload_events.upload_wait(
        upload_id=pk,
        read=lambda: upload_or_404(request, pk, with_results=False),
        settled=lambda u: query.settled(finished=u.is_finished, progress=u.progress),
        wait_s=query.wait_s,
    )
    return JsonResponse(_status_payload(upload))


@login_required
@require_GET
def history(request: HttpRequest) -> HttpResponse:
    """The person's uploads, newest first, with their top style and status.

    The cards are cached (templates/gallery/history.html) under the owner, the page, the state of
    their uploads (their count and `upload_history_changed_at`) and the CSRF secret the cards' delete forms are signed
    with: a hit reads no upload rows and renders no card. The secret is made first when the
    browser has none, so a fragment never carries another session's token."""
    page = _page(request, selectors.upload_history(owner=request.user), UPLOADS_PER_PAGE)
    get_token(request)
    context = {
        "page_obj": page,
        "cards_changed_at": selectors.upload_history_changed_at(owner=request.user),
        "csrf_secret": request.META.get("CSRF_COOKIE", ""),
    }
    return render(request, "gallery/history.html", context)
