"""End to end in Chromium: sign up → upload a painting → live status to done → results → history → delete.

Real services throughout: the live server, a Celery worker on Redis, the style model, pgvector, Neo4j.
Screenshots of the upload form, the results and the history land in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from gallery.models import Upload

pytestmark = pytest.mark.browser


def test_upload_flow_in_the_browser(page, screenshot, demo_catalogue, style_model, worker):
    from playwright.sync_api import expect

    painting = next(row for row in demo_catalogue if row["artist"])
    dialogs: list[str] = []

    # Sign up: the new account is signed in and lands on the home page.
    page.goto(reverse("signup"))
    page.fill("input[name=username]", "painter-fan")
    page.fill("input[name=email]", "fan@example.com")
    page.fill("input[name=password1]", "an-Easel-42!")
    page.fill("input[name=password2]", "an-Easel-42!")
    page.click("form.form button[type=submit]")
    expect(page.locator(".user-name")).to_contain_text("painter-fan")

    # The upload form, reached from the main navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Upload").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("gallery:upload_create")) + "$"))
    expect(page.locator("[data-dropzone]")).to_contain_text("10 MB")
    page.click("[data-submit]")  # nothing chosen: the form comes back with the error next to the field
    expect(page.locator("#id_image_errors")).to_contain_text("Choose an image file")
    screenshot(page, "00-upload-form-error")
    page.set_input_files("input[name=image]", str(settings.DEMO_CATALOGUE_DIR / painting["file"]))
    expect(page.locator("[data-filename]")).to_contain_text(painting["file"].split("/")[-1])
    expect(page.locator("[data-preview]")).to_be_visible()
    page.fill("input[name=artist]", painting["artist"])
    screenshot(page, "01-upload-form")
    page.click("[data-submit]")

    # Straight to the upload's page, which fills in by itself: no navigation, no manual reload.
    page.wait_for_url(re.compile(r"/uploads/\d+/$"))
    upload_id = int(re.search(r"/uploads/(\d+)/$", page.url).group(1))
    screenshot(page, "02-upload-in-progress")
    page.evaluate("window.__samePage = true")
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    expect(page.locator("[data-prediction]")).to_be_visible(timeout=60_000)
    assert page.evaluate("window.__samePage === true"), "the page was reloaded instead of filled in"
    assert navigations == []
    expect(page.locator("[data-status]")).to_have_text("Done")
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator(".style-bar")).to_have_count(5)
    expect(page.locator(".style-bar-value").first).to_contain_text("%")
    expect(page.locator(".similar-card")).to_have_count(10)
    expect(page.locator(".ranking-note")).to_contain_text(painting["artist"])
    expect(page.locator(".ranking-note")).to_contain_text("the painter you named")
    upload = Upload.objects.get(pk=upload_id)
    assert upload.status == Upload.Status.DONE
    page.wait_for_load_state("networkidle")
    screenshot(page, "03-upload-results")

    # A similar work's page has its own "Similar to this" section.
    page.locator(".similar-card .card-link").nth(1).click()
    expect(page.locator("#similar-heading")).to_have_text("Similar to this")
    expect(page.locator("#similar .similar-card").first).to_be_visible()
    screenshot(page, "05-artwork-similar")

    # History lists it; deleting asks first, then it is gone with its file.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    card = page.locator(f"[data-upload-id='{upload_id}']")
    expect(card).to_be_visible()
    expect(card.locator(".status-badge")).to_have_text("Done")
    screenshot(page, "04-history")

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    card.get_by_role("button", name=re.compile("Delete")).click()
    expect(page.locator(".message-success")).to_contain_text("Deleted")
    expect(page.locator(f"[data-upload-id='{upload_id}']")).to_have_count(0)
    assert dialogs and "cannot be undone" in dialogs[0]
    assert not Upload.objects.filter(pk=upload_id).exists()
    assert not upload.image.storage.exists(upload.image.name)
    screenshot(page, "06-history-after-delete")
