"""Account pages beyond Django's own (artsite/urls.py includes django.contrib.auth.urls after these)."""

from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("tokens/", views.account_tokens, name="account_tokens"),
]
