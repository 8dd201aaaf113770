"""REST API routes, mounted under /api/ (namespace "api"). Schema at /api/schema/, Swagger UI at /api/docs/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import auth, catalogue, uploads

app_name = "api"
urlpatterns = [
    path("auth/token/", auth.TokenObtainApi.as_view(), name="token"),
    path("uploads/", uploads.UploadListCreateApi.as_view(), name="upload_list"),
    path("uploads/<int:pk>/", uploads.UploadDetailApi.as_view(), name="upload_detail"),
    path("uploads/<int:pk>/status/", uploads.UploadStatusApi.as_view(), name="upload_status"),
    path("uploads/<int:pk>/reanalyse/", uploads.UploadReanalyseApi.as_view(), name="upload_reanalyse"),
    path("artworks/", catalogue.ArtworkListApi.as_view(), name="artwork_list"),
    path("artworks/<int:pk>/", catalogue.ArtworkDetailApi.as_view(), name="artwork_detail"),
    path("artworks/<int:pk>/similar/", catalogue.ArtworkSimilarApi.as_view(), name="artwork_similar"),
    path("artists/", catalogue.ArtistListApi.as_view(), name="artist_list"),
    path("artists/<int:pk>/", catalogue.ArtistDetailApi.as_view(), name="artist_detail"),
    path("styles/", catalogue.StyleListApi.as_view(), name="style_list"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the CSP needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
