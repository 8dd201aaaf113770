"""In Chromium: a museum photo of a catalogue painting is uploaded, and the page shows the painting found
in it, straightened, with its outline over the photo. The person drags one corner with the mouse, moves
another with the keyboard, and gets a new result analysed with their corners, the old one kept in
History. On a phone the corners follow a finger; without JavaScript the outline is still drawn and "Use
the whole photo" still works. Real live server, worker, model and services throughout.
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

pytestmark = pytest.mark.browser

CORNER_NAMES = ["Top-left corner", "Top-right corner", "Bottom-right corner", "Bottom-left corner"]


def _points(page) -> list[list[float]]:
    text = page.locator("[data-framing-polygon]").get_attribute("points").strip()
    return [[float(v) for v in pair.split(",")] for pair in text.split()] if text else []


def _flat(corners: list[list[float]]) -> list[float]:
    return [v for point in corners for v in point]  # pytest.approx compares flat sequences only


def _sent(page) -> list[list[float]]:
    return json.loads(page.locator("[data-corner-value]").input_value())


def _upload_id(page) -> int:
    page.wait_for_url(re.compile(r"/uploads/\d+/$"))
    return int(re.search(r"/uploads/(\d+)/$", page.url).group(1))


def _handle_centre(handle) -> tuple[float, float]:
    box = handle.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def _signed_in_context(browser, live_server, page, **options):
    context = browser.new_context(base_url=live_server.url, **options)
    context.add_cookies(page.context.cookies())
    context.set_default_timeout(15_000)
    return context


def test_correct_the_outline_of_a_wall_photo(
    browser, live_server, page, screenshot, check_accessible, demo_catalogue, style_model, worker, owner, tmp_path
):
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
    first_id = _upload_id(page)

    # Found and straightened (the results are swapped in when the worker is done): the straightened
    # painting is the figure, "What was analysed"; the photo below it carries the outline found.
    editor = page.locator("[data-corner-editor]")
    expect(editor).to_contain_text("We found the painting in your photo and straightened it", timeout=60_000)
    expect(page.locator("[data-heat-painting]")).to_have_attribute(
        "src", reverse("gallery:upload_painting", args=[first_id])
    )
    expect(page.locator(".upload-figure figcaption")).to_contain_text("What was analysed")
    found = Upload.objects.get(pk=first_id).insight.painting_corners
    assert found is not None
    assert _flat(_points(page)) == pytest.approx(_flat(found), abs=1e-5)
    expect(page.locator("[data-framing-photo]")).to_be_visible()
    expect(page.locator("[data-corner]").first).to_be_hidden()  # only once the person asks
    check_accessible(page, "wall photo, painting found")
    screenshot(page, "20-wall-photo-found")

    # Correct the outline: four handles on the outline's corners, the first one focused.
    page.get_by_role("button", name="Correct the outline").click()
    handles = [page.get_by_role("button", name=re.compile("^" + name)) for name in CORNER_NAMES]
    for handle in handles:
        expect(handle).to_be_visible()
    expect(handles[0]).to_be_focused()
    stage = page.locator("[data-framing-stage]")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    for handle, corner in zip(handles, found, strict=True):
        x, y = _handle_centre(handle)
        assert (x - box["x"]) / box["width"] == pytest.approx(corner[0], abs=0.01)
        assert (y - box["y"]) / box["height"] == pytest.approx(corner[1], abs=0.01)
    check_accessible(page, "wall photo, editing the corners")

    # Drag the top-left corner with the mouse past the bottom-right one: the outline crosses, the page
    # says so and will not send it; dragged on to 10 % / 12 % of the photo, it is fine again.
    page.mouse.move(*_handle_centre(handles[0]))
    page.mouse.down()
    page.mouse.move(box["x"] + 0.97 * box["width"], box["y"] + 0.97 * box["height"], steps=6)
    expect(page.locator("[data-corner-error]")).to_contain_text("without crossing")
    expect(page.locator("[data-corner-submit]")).to_be_disabled()
    page.mouse.move(box["x"] + 0.10 * box["width"], box["y"] + 0.12 * box["height"], steps=8)
    page.mouse.up()
    expect(page.locator("[data-corner-error]")).to_be_hidden()
    expect(page.locator("[data-corner-submit]")).to_be_enabled()

    # Move the bottom-right corner with the keyboard: right 5 % (Shift), down 2 × 1 %.
    handles[2].focus()
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    moved = [min(1.0, found[2][0] + 0.05), min(1.0, found[2][1] + 0.02)]
    expect(handles[2]).to_have_accessible_name(
        f"Bottom-right corner, {round(moved[0] * 100)} % across, {round(moved[1] * 100)} % down"
    )
    sent = _sent(page)
    assert sent[0] == pytest.approx([0.10, 0.12], abs=0.01)
    assert sent[2] == pytest.approx(moved, abs=1e-4)
    assert sent[1] == pytest.approx(found[1], abs=1e-4) and sent[3] == pytest.approx(found[3], abs=1e-4)
    assert _flat(_points(page)) == pytest.approx(_flat(sent), abs=1e-5)  # the outline follows the handles
    screenshot(page, "21-wall-photo-corners-moved")

    page.get_by_role("button", name="Analyse again with these corners").click()
    second_id = _upload_id(page)
    assert second_id != first_id
    expect(editor).to_contain_text("Analysed with the corners you set", timeout=60_000)
    again = Upload.objects.get(pk=second_id)
    assert again.corners_requested == sent and again.insight.painting_corners == sent
    assert _flat(_points(page)) == pytest.approx(_flat(sent), abs=1e-5)
    expect(page.get_by_role("button", name="Find the painting automatically")).to_be_visible()
    screenshot(page, "22-wall-photo-person-corners")

    # Both results are in History, the first one unchanged.
    page.goto(reverse("gallery:history"))
    expect(page.locator(f"[data-upload-id='{first_id}']")).to_be_visible()
    expect(page.locator(f"[data-upload-id='{second_id}']")).to_be_visible()
    first = Upload.objects.get(pk=first_id)
    assert first.insight.painting_source == "detected" and first.insight.painting_corners == found

    # On a phone: the corners follow a finger (touch events, as Chromium gets them from a touch screen),
    # the page does not scroll sideways, and cancelling puts the outline back.
    phone = _signed_in_context(
        browser, live_server, page, viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    mobile = phone.new_page()
    mobile.goto(again.get_absolute_url())
    mobile.get_by_role("button", name="Correct the outline").click()
    top_right = mobile.get_by_role("button", name=re.compile("^Top-right corner"))
    top_right.scroll_into_view_if_needed()
    box = mobile.locator("[data-framing-stage]").bounding_box()
    x, y = _handle_centre(top_right)
    target = (box["x"] + 0.9 * box["width"], box["y"] + 0.08 * box["height"])
    touch = phone.new_cdp_session(mobile)
    touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 7):
        point = {"x": x + (target[0] - x) * step / 6, "y": y + (target[1] - y) * step / 6}
        touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert _sent(mobile)[1] == pytest.approx([0.9, 0.08], abs=0.015)
    section = mobile.locator("[data-corner-editor]").bounding_box()
    assert box["x"] >= section["x"] and box["x"] + box["width"] <= section["x"] + section["width"]
    assert mobile.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(mobile, "23-wall-photo-corners-on-a-phone")
    mobile.get_by_role("button", name="Cancel").click()
    expect(mobile.get_by_role("button", name="Correct the outline")).to_be_focused()
    assert _flat(_points(mobile)) == pytest.approx(_flat(sent), abs=1e-5)
    phone.close()

    # Without JavaScript: the outline is drawn, no handles, and "Use the whole photo" is a plain form.
    plain = _signed_in_context(browser, live_server, page, java_script_enabled=False)
    nojs = plain.new_page()
    nojs.goto(again.get_absolute_url())
    expect(nojs.locator("[data-framing-svg]")).to_be_visible()
    expect(nojs.locator("[data-corner-start]")).to_be_hidden()
    expect(nojs.locator("[data-corner]").first).to_be_hidden()
    nojs.get_by_role("button", name="Use the whole photo").click()
    third_id = _upload_id(nojs)
    assert third_id not in {first_id, second_id}
    # The page refreshes itself (<noscript> meta refresh) until the worker is done.
    whole = nojs.locator("[data-corner-editor]")
    expect(whole).to_contain_text("Analysed the whole photo, as you asked", timeout=60_000)
    expect(nojs.locator("[data-framing-stage]")).to_be_hidden()  # the photo is the figure itself
    assert Upload.objects.get(pk=third_id).insight.painting_source == "whole"
    screenshot(nojs, "24-wall-photo-whole-without-javascript")
    plain.close()

    # No outline to correct: the photo appears when the person marks the corners, 5 % in from its edges.
    page.goto(reverse("gallery:upload_detail", args=[third_id]))
    expect(page.locator("[data-framing-stage]")).to_be_hidden()
    page.get_by_role("button", name="Mark the painting’s corners").click()
    expect(page.locator("[data-framing-stage]")).to_be_visible()
    assert _flat(_sent(page)) == pytest.approx([0.05, 0.05, 0.95, 0.05, 0.95, 0.95, 0.05, 0.95])
    expect(page.get_by_role("button", name="Use the whole photo")).to_have_count(0)  # that is what it is
    expect(page.get_by_role("button", name="Find the painting automatically")).to_be_visible()
