"""Where upload images may be read from: only by their owner (and staff), never by URL alone.

Local storage: `/media/uploads/...` is answered by `gallery.views.upload_image`, which checks the
owner before streaming the file (or handing it to the front server with X-Accel-Redirect). Every
other media file (the catalogue) stays public.

S3-compatible storage: `MediaStorage.url()` signs upload URLs for a few minutes only
(`PRIVATE_MEDIA_URL_EXPIRE_S`), and only pages that already checked the owner render them; catalogue
URLs are plain (the bucket policy makes `artworks/` public and keeps `uploads/` private).
"""

from __future__ import annotations

from django.conf import settings
from storages.backends.s3 import S3Storage

PRIVATE_PREFIX = "uploads/"


def is_private(name: str) -> bool:
    return name.startswith(PRIVATE_PREFIX)


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
