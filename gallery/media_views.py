"""Media files: the public catalogue, and the private files of an upload (its image, heat map, painting).

A private file opens for its owner (and, for upload images, staff who may view uploads), whether
they ask with a session or with the API token that got them the link (`gallery.requester`); anyone
else gets 404, as for a missing file. What is sent once allowed is `gallery.storage.private_file_response`.
"""

from __future__ import annotations

import posixpath

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django.views.static import serve

from . import selectors
from .requester import request_user
from .storage import is_private, private_file_response


@require_GET
def public_media(request: HttpRequest, path: str) -> HttpResponse:
    """Catalogue images and other public media from MEDIA_ROOT; never an upload, however the path is spelt."""
    name = posixpath.normpath(path).lstrip("/")
    if is_private(name):
        raise Http404("Upload images are served through the owner check")
    return serve(request, name, document_root=settings.MEDIA_ROOT)


@require_GET
def upload_image(request: HttpRequest, name: str) -> HttpResponse:
    """An upload's stored image (local storage), for its owner and staff who may view uploads."""
    name = posixpath.normpath(name)
    if not is_private(name) or not selectors.upload_image_visible(user=request_user(request), name=name):
        raise Http404("No such image among yours")
    return private_file_response(name)


def _insight_file(request: HttpRequest, pk: int, field: str):
    """The file `field` of the insight of one of the caller's uploads, or 404 (also for anyone else's)."""
    user = request_user(request)
    upload = selectors.upload_get(owner=user, pk=pk, with_results=False) if user.is_authenticated else None
    insight = getattr(upload, "insight", None) if upload is not None else None
    file = getattr(insight, field, None) if insight is not None else None
    if not file:
        raise Http404("No such file for this upload among yours")
    return private_file_response(file.name, storage=file.storage)


@require_GET
def upload_heatmap(request: HttpRequest, pk: int) -> HttpResponse:
    """The heat map of one of the caller's uploads (`heatmap_url` in the API): the owner only."""
    return _insight_file(request, pk, "heatmap")


@require_GET
def upload_painting(request: HttpRequest, pk: int) -> HttpResponse:
    """The straightened painting cut out of one of the caller's photos (`painting.image_url`): the owner only."""
    return _insight_file(request, pk, "painting")
