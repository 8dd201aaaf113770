from django.urls import path

from . import explore_views, media_views, upload_actions, views

app_name = "gallery"
urlpatterns = [
    path("", views.home, name="home"),
    path("artworks/", views.artwork_list, name="artwork_list"),
    path("artworks/<int:pk>/", views.artwork_detail, name="artwork_detail"),
    path("artists/", views.artist_list, name="artist_list"),
    path("artists/<slug:slug>/", views.artist_detail, name="artist_detail"),
    path("artists/<slug:slug>/connections/", explore_views.artist_path, name="artist_path"),
    path("palette/", explore_views.palette_search_page, name="palette_search"),
    path("map/", explore_views.catalogue_map_page, name="catalogue_map"),
    path("uploads/<int:pk>/heatmap.jpg", media_views.upload_heatmap, name="upload_heatmap"),
    path("uploads/<int:pk>/painting.jpg", media_views.upload_painting, name="upload_painting"),
    path("upload/", views.upload_create, name="upload_create"),
    path("uploads/<int:pk>/", views.upload_detail, name="upload_detail"),
    path("uploads/<int:pk>/status/", views.upload_status, name="upload_status"),
    path("uploads/<int:pk>/delete/", upload_actions.upload_delete, name="upload_delete"),
    path("uploads/<int:pk>/reanalyse/", upload_actions.upload_reanalyse, name="upload_reanalyse"),
    path("history/", views.history, name="history"),
]
