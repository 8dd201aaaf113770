"""Where upload images may be read from: only by their owner (and staff), never by URL alone.

Local storage: `/media/uploads/...` is answered by `gallery.media_views.upload_image`, which checks the
owner before streaming the file (or handing it to the front server with X-Accel-Redirect). Every
other media file (the catalogue) stays public.

S3-compatible storage: `MediaStorage.url()` signs upload URLs for a few minutes only
(`PRIVATE_MEDIA_URL_EXPIRE_S`), and only pages that already checked the owner render them; catalogue
URLs are plain (the bucket policy makes `artworks/` public and keeps `uploads/` private).
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from storages.backends.s3 import S3Storage

PRIVATE_PREFIX = "uploads/"


def is_private(name: str) -> bool:
    return name.startswith(PRIVATE_PREFIX)


def private_file_response(name: str, *, storage: Storage = default_storage) -> HttpResponse:
    """Send the private JPEG `name` to a caller a view has already allowed to see it.

    Local storage: streamed by FileResponse (sendfile under gunicorn), or sent by nginx when
    PRIVATE_MEDIA_X_ACCEL_REDIRECT names its internal location; stored names are random and never
    reused, so the browser may keep it for a day (shared caches may not). Other storages (S3): a
    redirect to the file's signed URL, the same rule as an upload image's URL there (valid for
    PRIVATE_MEDIA_URL_EXPIRE_S), and the redirect itself is not kept, since its target expires.
    """
    if not isinstance(storage, FileSystemStorage):
        response: HttpResponse = HttpResponseRedirect(storage.url(name))
        response["Cache-Control"] = "private, no-store"
        return response
    if settings.PRIVATE_MEDIA_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type="image/jpeg")
        response["X-Accel-Redirect"] = settings.PRIVATE_MEDIA_X_ACCEL_REDIRECT.rstrip("/") + "/" + name
    else:
        try:
            response = FileResponse(storage.open(name, "rb"), content_type="image/jpeg")
        except FileNotFoundError as exc:
            raise Http404("The file is missing") from exc
    response["Cache-Control"] = "private, max-age=86400"
    return response


class MediaStorage(S3Storage):
    def url(self, name: str, parameters: dict | None = None, expire: int | None = None, http_method=None) -> str:
        if is_private(name):
            return self._signed_url(name, parameters, expire or settings.PRIVATE_MEDIA_URL_EXPIRE_S, http_method)
        # Public objects need no signature: a stable URL that browsers and CDNs can cache.
        return self._unsigned_url(name, parameters, http_method)

    def _signed_url(self, name: str, parameters, expire: int, http_method) -> str:
        signed, self.querystring_auth = self.querystring_auth, True
        try:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        finally:
            self.querystring_auth = signed

    def _unsigned_url(self, name: str, parameters, http_method) -> str:
        signed, self.querystring_auth = self.querystring_auth, False
        try:
            return super().url(name, parameters=parameters, http_method=http_method)
        finally:
            self.querystring_auth = signed
