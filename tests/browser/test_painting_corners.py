"""In Chromium: a museum photo of a catalogue painting is uploaded, the page shows the painting found in it
with its outline; the person drags one corner with the mouse, moves another with the keyboard, and gets
a new result analysed with their corners, the old one kept in History. Real worker, model and services.
"""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image

from gallery.models import Upload
from recommender.training.wall_photos import wall_photo

from .conftest import axe_violations

pytestmark = pytest.mark.browser


def test_correct_the_outline_of_a_wall_photo(page, screenshot, demo_catalogue, style_model, worker, owner, tmp_path):
    from playwright.sync_api import expect

    row = demo_catalogue[3]
    photo = wall_photo(Image.open(settings.DEMO_CATALOGUE_DIR / row["file"]).convert("RGB"), seed=7)
    path = tmp_path / "museum.jpg"
    path.write_bytes(photo.jpeg)

    page.goto(reverse("login"))
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", "owner-pass-123")
    page.click("form.form button[type=submit]")
    page.goto(reverse("gallery:upload_create"))
    page.set_input_files("input[name=image]#id_image", str(path))
    page.click("[data-submit]")
    page.wait_for_url(re.compile(r"/uploads/\d+/$"))
    first_id = int(re.search(r"/uploads/(\d+)/$", page.url).group(1))

    # Found and straightened: the outline is drawn over the photo, the straightened painting is the figure.
    editor = page.locator("[data-corner-editor]")
    expect(editor).to_be_visible(timeout=60_000)
    expect(editor).to_contain_text("We found the painting in your photo")
    expect(page.locator("[data-heat-painting]")).to_have_attribute(
        "src", reverse("gallery:upload_painting", args=[first_id])
    )
    found = Upload.objects.get(pk=first_id).insight.painting_corners
    assert found is not None
    page.wait_for_load_state("networkidle")
    screenshot(page, "20-wall-photo-found")
    assert axe_violations(page) == []

    page.click("[data-corner-start]")
    handles = page.locator("[data-corner]")
    expect(handles).to_have_count(4)
    expect(handles.first).to_be_visible()

    # Drag the top-left corner to 10 % / 12 % of the photo with the mouse.
    stage = page.locator("[data-framing-stage]").bounding_box()
    start = handles.nth(0).bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + 0.10 * stage["width"], stage["y"] + 0.12 * stage["height"], steps=8)
    page.mouse.up()
    # Move the bottom-right corner with the keyboard: right 5 % (Shift), down 2 %.
    handles.nth(2).focus()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(handles.nth(2)).to_have_attribute("aria-label", re.compile(r"^Bottom-right corner, \d+ % across"))

    sent = json.loads(page.locator("[data-corner-value]").input_value())
    assert sent[0] == pytest.approx([0.10, 0.12], abs=0.02)
    assert sent[2] == pytest.approx([min(1.0, found[2][0] + 0.05), min(1.0, found[2][1] + 0.02)], abs=0.002)
    assert sent[1] == pytest.approx(found[1], abs=1e-4) and sent[3] == pytest.approx(found[3], abs=1e-4)
    screenshot(page, "21-wall-photo-corners-moved")

    page.click("[data-corner-submit]")
    page.wait_for_url(re.compile(r"/uploads/\d+/$"))
    second_id = int(re.search(r"/uploads/(\d+)/$", page.url).group(1))
    assert second_id != first_id
    expect(page.locator("[data-corner-editor]")).to_contain_text("Analysed with the corners you set", timeout=60_000)
    again = Upload.objects.get(pk=second_id)
    assert again.corners_requested == sent and again.insight.painting_corners == sent
    page.wait_for_load_state("networkidle")
    screenshot(page, "22-wall-photo-person-corners")

    # Both results are in History, the first one unchanged.
    page.goto(reverse("gallery:history"))
    expect(page.locator(f"[data-upload-id='{first_id}']")).to_be_visible()
    expect(page.locator(f"[data-upload-id='{second_id}']")).to_be_visible()
    assert Upload.objects.get(pk=first_id).insight.painting_source == "detected"
