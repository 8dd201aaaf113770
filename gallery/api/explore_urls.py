"""API routes of the exploration features, mounted under /api/ beside gallery.api.urls (namespace "explore-api").

Kept in their own module so the features can be read (and removed) together; drf-spectacular lists
them in /api/schema/ and /api/docs/ like every other route.
"""

from django.urls import path

from . import explore

app_name = "explore-api"
urlpatterns = [
    path("artists/<int:pk>/path/", explore.ArtistPathApi.as_view(), name="artist_path"),
    path("artworks/<int:pk>/palette/", explore.ArtworkPaletteApi.as_view(), name="artwork_palette"),
    path("palette-search/", explore.PaletteSearchApi.as_view(), name="palette_search"),
    path("map/", explore.CatalogueMapApi.as_view(), name="catalogue_map"),
    path("uploads/<int:pk>/insights/", explore.UploadInsightApi.as_view(), name="upload_insights"),
    path("uploads/<int:pk>/map-position/", explore.UploadMapPositionApi.as_view(), name="upload_map_position"),
]
