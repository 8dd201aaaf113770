"""The site's URLs plus two views that crash, to see the 500 responses (tests only)."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from artsite.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate crash with a secret in it: sk-do-not-show")


urlpatterns = [path("api/boom/", boom), path("boom/", boom), *urlpatterns]
