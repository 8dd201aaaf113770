from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from gallery.media_views import public_media, upload_image

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("artsite.ops_urls")),  # /health/, /metrics, /staff/jobs/
    path("api/", include("gallery.api.urls")),
    path("api/", include("gallery.api.explore_urls")),
    path("accounts/", include("gallery.auth_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("gallery.urls")),
]

if settings.SERVE_MEDIA:
    # Local default only (with S3 the bucket serves media): upload images through the owner check,
    # everything else (the catalogue) public from MEDIA_ROOT.
    urlpatterns += [
        re_path(r"^media/(?P<name>uploads/.+)$", upload_image, name="upload_image"),
        re_path(r"^media/(?P<path>.*)$", public_media),
    ]

# JSON under /api/, the site's pages elsewhere (artsite/errors.py).
handler400 = "artsite.errors.bad_request"
handler403 = "artsite.errors.permission_denied"
handler404 = "artsite.errors.page_not_found"
handler500 = "artsite.errors.server_error"
