"""The results page's "painting in your photo": the outline, the words for each way it was chosen, the
re-analysis forms, and the straightened painting shown to its owner only."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from gallery.models import Upload
from recommender.models import UploadInsight
from tests.factories import jpeg_bytes
from tests.factories import upload_create as upload_factory

pytestmark = pytest.mark.django_db

CORNERS = [[0.2, 0.1], [0.8, 0.12], [0.78, 0.9], [0.22, 0.88]]


def _done(owner, source: str, corners=None, painting: bool = False) -> Upload:
    upload = upload_factory(owner=owner, status=Upload.Status.DONE, stage=Upload.Stage.DONE, progress=100)
    insight = UploadInsight.objects.create(upload=upload, painting_source=source, painting_corners=corners)
    if painting:
        insight.painting.save("painting.jpg", ContentFile(jpeg_bytes(size=(60, 80))), save=True)
    return upload


@pytest.mark.parametrize(
    "source, corners, words",
    [
        ("detected", CORNERS, "We found the painting in your photo"),
        ("person", CORNERS, "Analysed with the corners you set"),
        ("whole", None, "Analysed the whole photo, as you asked"),
        ("none", None, "No frame was found, so the whole image was analysed"),
    ],
)
def test_the_page_says_what_was_analysed_and_offers_the_other_choices(client, owner, source, corners, words) -> None:
    upload = _done(owner, source, corners, painting=corners is not None)
    client.force_login(owner)
    html = client.get(upload.get_absolute_url()).content.decode()
    assert words in html
    reanalyse = reverse("gallery:upload_reanalyse", args=[upload.pk])
    assert f'action="{reanalyse}"' in html and 'name="framing" value="corners"' in html
    assert ('name="framing" value="whole"' in html) == (source != "whole")
    assert ('name="framing" value="auto"' in html) == (source in {"person", "whole"})
    if corners:
        assert 'points="0.20000,0.10000 0.80000,0.12000 0.78000,0.90000 0.22000,0.88000 "' in html
        assert reverse("gallery:upload_painting", args=[upload.pk]) in html  # the straightened painting
    else:
        assert 'points=""' in html  # no outline drawn: the editor starts from an inset of the whole photo
        assert reverse("gallery:upload_painting", args=[upload.pk]) not in html


def test_the_straightened_painting_is_the_owners_only(client, owner, other_user) -> None:
    upload = _done(owner, "detected", CORNERS, painting=True)
    url = reverse("gallery:upload_painting", args=[upload.pk])
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.get(upload.get_absolute_url()).status_code == 404
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert client.get(reverse("gallery:upload_painting", args=[_done(owner, "none").pk])).status_code == 404


def test_corners_that_cross_are_refused_with_a_message_and_nothing_is_created(client, owner) -> None:
    upload = _done(owner, "detected", CORNERS, painting=True)
    client.force_login(owner)
    crossed = "[[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]"
    response = client.post(
        reverse("gallery:upload_reanalyse", args=[upload.pk]), {"framing": "corners", "corners": crossed}, follow=True
    )
    assert "clockwise from its top-left, without crossing" in response.content.decode()
    assert list(Upload.objects.values_list("pk", flat=True)) == [upload.pk]


def test_the_api_refuses_to_reanalyse_an_unfinished_upload_or_an_unknown_choice(owner) -> None:
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user=owner)[1]}")
    waiting = upload_factory(owner=owner)  # queued
    response = api.post(f"/api/uploads/{waiting.pk}/reanalyse/", {"framing": "whole"}, format="json")
    assert response.status_code == 409 and "still being analysed" in response.json()["detail"]
    done = _done(owner, "detected", CORNERS, painting=True)
    response = api.post(f"/api/uploads/{done.pk}/reanalyse/", {"framing": "sideways"}, format="json")
    assert response.status_code == 400 and "framing" in response.json()
    response = api.post(f"/api/uploads/{done.pk}/reanalyse/", {"corners": [[0.1, 0.1]]}, format="json")
    assert response.status_code == 400 and "four corners" in response.json()["corners"][0]
    assert Upload.objects.count() == 2
