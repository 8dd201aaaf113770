"""The results page's "painting in your photo": the outline, the words for each way it was chosen, the
re-analysis forms (which work for whoever opens a cached page), and the straightened painting shown to
its owner only."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gallery.models import Upload
from recommender.models import UploadInsight
from tests.factories import jpeg_bytes, token_client
from tests.factories import upload_create as upload_factory

pytestmark = pytest.mark.django_db

CORNERS = [[0.2, 0.1], [0.8, 0.12], [0.78, 0.9], [0.22, 0.88]]
POINTS = "0.20000,0.10000 0.80000,0.12000 0.78000,0.90000 0.22000,0.88000"

# What the person asked for (Upload.corners_requested) and what the worker then records (UploadInsight),
# as recommender.framing.frame_image pairs them.
SOURCES = {
    "detected": {"requested": None, "corners": CORNERS, "painting": True},
    "person": {"requested": CORNERS, "corners": CORNERS, "painting": True},
    "whole": {"requested": [], "corners": None, "painting": False},
    "none": {"requested": None, "corners": None, "painting": False},
}


def _done(owner, source: str | None) -> Upload:
    """A finished upload whose insight says the painting came from `source` (None: no insight row)."""
    case = SOURCES.get(source, {"requested": None})
    upload = upload_factory(
        owner=owner,
        status=Upload.Status.DONE,
        stage=Upload.Stage.DONE,
        progress=100,
        corners_requested=case["requested"],
    )
    if source is not None:
        insight = UploadInsight.objects.create(upload=upload, painting_source=source, painting_corners=case["corners"])
        if case["painting"]:
            insight.painting.save("painting.jpg", ContentFile(jpeg_bytes(size=(60, 80))), save=True)
    return upload


class _Framing(HTMLParser):
    """The framing section of a page: its forms (hidden fields, button), outline points, whether the
    photo under the outline is shown without JavaScript."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0  # inside <section data-corner-editor> while > 0
        self.forms: list[dict] = []
        self.points: str | None = None
        self.stage_hidden: bool | None = None
        self._button = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "section" and "data-corner-editor" in a:
            self.depth = 1
            return
        if not self.depth:
            return
        if tag == "section":
            self.depth += 1
        elif tag == "form":
            self.forms.append({"action": a.get("action"), "method": a.get("method"), "fields": {}, "button": ""})
        elif tag == "input" and self.forms:
            self.forms[-1]["fields"][a.get("name")] = a.get("value")
        elif tag == "button" and self.forms and a.get("type") == "submit":
            self._button = True
        elif tag == "polygon":
            self.points = a.get("points")
        elif "data-framing-stage" in a:
            self.stage_hidden = "hidden" in a

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "section":
            self.depth -= 1
        elif tag == "button":
            self._button = False

    def handle_data(self, data: str) -> None:
        if self._button:
            self.forms[-1]["button"] += data.strip()

    def framings(self) -> dict[str, dict]:
        return {form["fields"].get("framing"): form for form in self.forms}


def _framing(html: str) -> _Framing:
    parser = _Framing()
    parser.feed(html)
    return parser


@pytest.mark.parametrize(
    "source, words",
    [
        ("detected", "We found the painting in your photo and straightened it"),
        ("person", "Analysed with the corners you set"),
        ("whole", "Analysed the whole photo, as you asked"),
        ("none", "No frame was found, so the whole image was analysed"),
    ],
)
def test_the_page_says_what_was_analysed_draws_the_outline_and_offers_the_other_choices(
    client, owner, source, words
) -> None:
    upload = _done(owner, source)
    client.force_login(owner)
    html = client.get(upload.get_absolute_url()).content.decode()
    framing = _framing(html)

    assert words in html
    reanalyse = reverse("gallery:upload_reanalyse", args=[upload.pk])
    forms = framing.framings()
    assert all(form["action"] == reanalyse and form["method"] == "post" for form in forms.values())
    assert all(form["fields"].get("csrfmiddlewaretoken") for form in forms.values())
    # The corners form is there for the script to fill; the other two are plain forms that work without it.
    assert forms["corners"]["button"] == "Analyse again with these corners"
    assert forms["corners"]["fields"]["corners"] == ""
    assert ("whole" in forms) == (source != "whole")
    assert ("auto" in forms) == (source in {"person", "whole"})
    if "whole" in forms:
        assert forms["whole"]["button"] == "Use the whole photo"
    if "auto" in forms:
        assert forms["auto"]["button"] == "Find the painting automatically"

    painting_url = reverse("gallery:upload_painting", args=[upload.pk])
    if SOURCES[source]["corners"]:
        # The outline over the photo, in fractions of it; the straightened painting is the figure.
        assert framing.points == POINTS and framing.stage_hidden is False
        assert f'src="{painting_url}"' in html and "What was analysed" in html
    else:
        # No outline: the photo is the figure already, so it is not shown twice until the person marks corners.
        assert framing.points == "" and framing.stage_hidden is True
        assert painting_url not in html and "What was analysed" not in html


def test_a_cached_page_gives_every_visitor_a_working_form(owner) -> None:
    """The results are cached for a day, the forms' CSRF tokens must not be: a second browser of the same
    person (another cookie) gets the cached outline and forms that its own cookie accepts."""
    upload = _done(owner, "detected")
    first = Client(enforce_csrf_checks=True)
    first.force_login(owner)
    first.get(upload.get_absolute_url())  # renders and caches the results

    second = Client(enforce_csrf_checks=True)
    second.force_login(owner)
    with CaptureQueriesContext(connection) as queries:
        html = second.get(upload.get_absolute_url()).content.decode()
    assert not [q for q in queries if "recommender_uploadinsight" in q["sql"]]  # served from the cache
    framing = _framing(html)
    assert framing.points == POINTS
    forms = framing.framings()

    reanalyse = reverse("gallery:upload_reanalyse", args=[upload.pk])
    corrected = "[[0.15, 0.1], [0.8, 0.12], [0.8, 0.9], [0.2, 0.9]]"
    response = second.post(reanalyse, {**forms["corners"]["fields"], "corners": corrected})
    assert response.status_code == 302
    again = Upload.objects.exclude(pk=upload.pk).get()
    assert response.url == again.get_absolute_url()
    assert again.corners_requested == [[0.15, 0.1], [0.8, 0.12], [0.8, 0.9], [0.2, 0.9]]

    response = second.post(reanalyse, forms["whole"]["fields"])
    assert response.status_code == 302
    whole = Upload.objects.exclude(pk__in=[upload.pk, again.pk]).get()
    assert whole.corners_requested == []
    assert Upload.objects.get(pk=upload.pk).corners_requested is None  # the first result is left as it was


def test_a_result_from_before_the_painting_finder_can_still_be_framed(client, owner) -> None:
    upload = _done(owner, None)  # finished, no insight row
    client.force_login(owner)
    html = client.get(upload.get_absolute_url()).content.decode()
    assert "the whole image was analysed" in html
    framing = _framing(html)
    assert set(framing.framings()) == {"corners", "whole"}
    assert framing.points == "" and framing.stage_hidden is True


def test_the_straightened_painting_and_the_page_are_the_owners_only(client, owner, other_user) -> None:
    upload = _done(owner, "detected")
    url = reverse("gallery:upload_painting", args=[upload.pk])
    client.force_login(other_user)
    assert client.get(url).status_code == 404
    assert client.get(upload.get_absolute_url()).status_code == 404
    reanalyse = reverse("gallery:upload_reanalyse", args=[upload.pk])
    assert client.post(reanalyse, {"framing": "whole"}).status_code == 404
    assert Upload.objects.count() == 1
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert client.get(reverse("gallery:upload_painting", args=[_done(owner, "none").pk])).status_code == 404


@pytest.mark.parametrize(
    "corners, message",
    [
        ("[[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]", "clockwise from its top-left, without crossing"),
        ("[[0.5, 0.5], [0.6, 0.5], [0.6, 0.6], [0.5, 0.6]]", "at least 2 % of the photo"),
        ("[[0.1, 0.1], [1.2, 0.1], [0.9, 0.9], [0.1, 0.9]]", "inside the image"),
    ],
)
def test_unusable_corners_are_refused_with_a_message_and_nothing_is_created(client, owner, corners, message) -> None:
    upload = _done(owner, "detected")
    client.force_login(owner)
    response = client.post(
        reverse("gallery:upload_reanalyse", args=[upload.pk]), {"framing": "corners", "corners": corners}, follow=True
    )
    assert response.redirect_chain[-1][0] == upload.get_absolute_url()
    assert message in response.content.decode()
    assert list(Upload.objects.values_list("pk", flat=True)) == [upload.pk]
    assert re.search(r'<polygon points="' + POINTS, response.content.decode())  # the page as it was


def test_the_api_refuses_to_reanalyse_an_unfinished_upload_or_an_unknown_choice(owner) -> None:
    api = token_client(owner)
    waiting = upload_factory(owner=owner)  # queued
    response = api.post(f"/api/uploads/{waiting.pk}/reanalyse/", {"framing": "whole"}, format="json")
    assert response.status_code == 409 and "still being analysed" in response.json()["detail"]
    done = _done(owner, "detected")
    response = api.post(f"/api/uploads/{done.pk}/reanalyse/", {"framing": "sideways"}, format="json")
    assert response.status_code == 400 and "framing" in response.json()
    response = api.post(f"/api/uploads/{done.pk}/reanalyse/", {"corners": [[0.1, 0.1]]}, format="json")
    assert response.status_code == 400 and "four corners" in response.json()["corners"][0]
    assert Upload.objects.count() == 2
