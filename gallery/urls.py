from django.urls import path

from . import views

app_name = "gallery"
urlpatterns = [
    path("", views.home, name="home"),
    path("artworks/", views.artwork_list, name="artwork_list"),
    path("artworks/<int:pk>/", views.artwork_detail, name="artwork_detail"),
    path("artists/", views.artist_list, name="artist_list"),
    path("artists/<slug:slug>/", views.artist_detail, name="artist_detail"),
]
