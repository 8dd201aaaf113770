"""A photo of a catalogue painting on a wall, through the real worker: the painting is found, straightened
and recognised; the person's corrected corners (page and API) give a new result and keep the old one."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from gallery import services
from gallery.models import Upload
from recommender.painting_finder import quad_iou
from recommender.training.wall_photos import wall_photo
from tests.factories import token_client, upload_wait_finished


@pytest.fixture
def wall(demo_catalogue):
    row = demo_catalogue[3]
    painting = Image.open(settings.DEMO_CATALOGUE_DIR / row["file"]).convert("RGB")
    return row, wall_photo(painting, seed=7)


def test_wall_photo_of_a_catalogue_work_is_recognised_and_corrected(wall, worker, owner, other_user, tmp_path) -> None:
    row, photo = wall
    upload = services.upload_create(owner=owner, image_file=SimpleUploadedFile("museum.jpg", photo.jpeg))
    upload = upload_wait_finished(upload.pk)
    assert upload.status == Upload.Status.DONE, upload.error

    insight = upload.insight
    assert insight.painting_source == "detected"
    width, height = Image.open(upload.image).size
    assert quad_iou(np.asarray(insight.painting_corners) * [width, height], photo.corners) >= 0.9
    assert insight.painting and Image.open(insight.painting).size[0] > 100
    # The painting alone is what was analysed: it is recognised as the catalogue work it is a photo of.
    assert insight.duplicate_of is not None and insight.duplicate_of.source_id == row["id"]
    top_style = upload.predictions.get(rank=1).style.name

    # The API shows the corners and the straightened painting, to the owner only.
    api = token_client(owner)
    body = api.get(f"/api/uploads/{upload.pk}/").json()
    painting = body["insights"]["painting"]
    assert painting["source"] == "detected" and painting["corners"] == insight.painting_corners
    assert api.get(painting["image_url"]).status_code == 200
    assert token_client(other_user).get(painting["image_url"]).status_code == 404

    # Corners that do not make an outline change nothing.
    before = Upload.objects.count()
    bad = api.post(
        f"/api/uploads/{upload.pk}/reanalyse/",
        {"framing": "corners", "corners": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]},
        format="json",
    )
    assert bad.status_code == 400 and "clockwise" in json.dumps(bad.json())
    assert (
        token_client(other_user)
        .post(f"/api/uploads/{upload.pk}/reanalyse/", {"framing": "whole"}, format="json")
        .status_code
        == 404
    )
    assert Upload.objects.count() == before

    # Corrected corners: a new result, the old one kept.
    corners = [[0.05, 0.05], [0.95, 0.05], [0.95, 0.95], [0.05, 0.95]]
    response = api.post(
        f"/api/uploads/{upload.pk}/reanalyse/", {"framing": "corners", "corners": corners}, format="json"
    )
    assert response.status_code == 202
    again = upload_wait_finished(response.json()["id"])
    assert again.status == Upload.Status.DONE and again.corners_requested == corners
    assert again.insight.painting_source == "person" and again.insight.painting_corners == corners
    assert Upload.objects.get(pk=upload.pk).insight.painting_source == "detected"

    # The page's "use the whole photo": the whole photo is analysed, as a new upload too.
    client = Client()
    client.force_login(owner)
    response = client.post(f"/uploads/{upload.pk}/reanalyse/", {"framing": "whole"})
    whole = Upload.objects.exclude(pk__in=[upload.pk, again.pk]).get(owner=owner)
    assert response.status_code == 302 and response.url == whole.get_absolute_url()
    whole = upload_wait_finished(whole.pk)
    assert whole.insight.painting_source == "whole" and whole.insight.painting_corners is None
    assert not whole.insight.painting

    # `manage.py predict` frames the file the same way and gives the upload's answer.
    path = tmp_path / "museum.jpg"
    path.write_bytes(photo.jpeg)
    out = StringIO()
    call_command("predict", str(path), "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["painting"]["source"] == "detected"
    assert np.allclose(result["painting"]["corners"], insight.painting_corners, atol=1e-4)
    assert result["styles"][0]["style"] == top_style
