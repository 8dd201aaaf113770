"""Accounts: sign-up, sign-in, sign-out, password change, and what anonymous visitors may see."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import artist_create, artwork_create

pytestmark = pytest.mark.django_db

User = get_user_model()


def _signed_in_user_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def test_signup_creates_the_user_and_signs_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "newbie", "email": "newbie@example.com", "password1": "an-Easel-42!", "password2": "an-Easel-42!"},
    )
    assert response.status_code == 302
    assert response.url == reverse("gallery:home")
    user = User.objects.get(username="newbie")
    assert user.email == "newbie@example.com"
    assert user.check_password("an-Easel-42!")
    assert _signed_in_user_id(client) == user.pk
    home = client.get(response.url)
    assert "newbie" in home.content.decode()
    assert "Sign out" in home.content.decode()


def test_signup_follows_a_safe_next_only(client):
    data = {"username": "a1", "email": "a1@example.com", "password1": "an-Easel-42!", "password2": "an-Easel-42!"}
    response = client.post(reverse("signup"), {**data, "next": "/artists/"})
    assert response.url == "/artists/"
    client.logout()
    data = {"username": "a2", "email": "a2@example.com", "password1": "an-Easel-42!", "password2": "an-Easel-42!"}
    response = client.post(reverse("signup"), {**data, "next": "https://evil.example.com/"})
    assert response.url == reverse("gallery:home")


def test_signup_shows_errors_next_to_fields(client, owner):
    response = client.post(
        reverse("signup"),
        {"username": "owner", "email": "OWNER@example.com", "password1": "short", "password2": "different"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert {"username", "email", "password2"} <= set(form.errors)
    html = response.content.decode()
    assert 'class="field-errors"' in html
    assert "An account with this email address already exists." in html
    assert User.objects.filter(username="owner").count() == 1
    assert _signed_in_user_id(client) is None


def test_signup_page_redirects_a_signed_in_user(client, owner):
    client.force_login(owner)
    assert client.get(reverse("signup")).status_code == 302


def test_sign_in_and_sign_out(client, owner):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert "Sign in" in page.content.decode()

    bad = client.post(reverse("login"), {"username": "owner", "password": "wrong"})
    assert bad.status_code == 200
    assert 'class="form-errors"' in bad.content.decode()
    assert _signed_in_user_id(client) is None

    good = client.post(reverse("login"), {"username": "owner", "password": "owner-pass-123", "next": "/artists/"})
    assert good.status_code == 302 and good.url == "/artists/"
    assert _signed_in_user_id(client) == owner.pk

    # Django 5+ signs out on POST only; the nav renders a form for it.
    home = client.get(reverse("gallery:home")).content.decode()
    assert f'action="{reverse("logout")}"' in home and 'method="post"' in home
    out = client.post(reverse("logout"))
    assert out.status_code == 302
    assert _signed_in_user_id(client) is None


def test_password_change(client, owner):
    client.force_login(owner)
    url = reverse("password_change")
    assert client.get(url).status_code == 200
    wrong = client.post(url, {"old_password": "nope", "new_password1": "x", "new_password2": "y"})
    assert wrong.status_code == 200
    assert "old_password" in wrong.context["form"].errors

    response = client.post(
        url, {"old_password": "owner-pass-123", "new_password1": "Brush-stroke-77", "new_password2": "Brush-stroke-77"}
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert client.get(response.url).status_code == 200
    owner.refresh_from_db()
    assert owner.check_password("Brush-stroke-77")
    assert _signed_in_user_id(client) == owner.pk  # the session survives the change


def test_password_change_needs_sign_in(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_password_reset_pages_render(client, owner, mailoutbox):
    assert client.get(reverse("password_reset")).status_code == 200
    response = client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert response.status_code == 302
    assert client.get(response.url).status_code == 200
    assert len(mailoutbox) == 1
    assert client.get(reverse("password_reset_complete")).status_code == 200
    bad_link = client.get(reverse("password_reset_confirm", args=["x", "y"]))
    assert bad_link.status_code == 200
    assert "Link expired" in bad_link.content.decode()


def test_anonymous_can_browse_everything(client):
    artwork = artwork_create(title="Open to all", artist=artist_create(name="Public Painter"))
    for url in [
        reverse("gallery:home"),
        reverse("gallery:artwork_list"),
        artwork.get_absolute_url(),
        reverse("gallery:artist_list"),
        artwork.artist.get_absolute_url(),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "Sign in" in html and "Admin" not in html


@pytest.mark.parametrize(("who", "sees_admin"), [("owner", False), ("other_user", False), ("admin_user", True)])
def test_nav_shows_username_and_admin_link_for_staff_only(client, request, who, sees_admin):
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get(reverse("gallery:home")).content.decode()
    assert user.get_username() in html
    assert (reverse("admin:index") in html) is sees_admin
