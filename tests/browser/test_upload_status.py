"""The upload page's step tracker in Chromium: the script applies the step states the status JSON sends
(gallery.views.PIPELINE_STEPS and its rule), so it follows the pipeline without a list of its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from gallery.models import Upload
from tests.factories import upload_create

pytestmark = pytest.mark.browser


def test_step_tracker_follows_the_pipeline_and_shows_a_failed_step(page, transactional_db, owner) -> None:
    from playwright.sync_api import expect

    upload = upload_create(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.CLASSIFYING, progress=10)
    page.goto(reverse("login"))
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", "owner-pass-123")
    page.click("form.form button[type=submit]")
    expect(page.locator(".user-name")).to_contain_text("owner")

    page.goto(upload.get_absolute_url())
    step = page.locator
    expect(step("[data-step=classifying]")).to_have_class("step-current")
    page.evaluate("window.__samePage = true")

    # Only the script can move the tracker now: the page is not reloaded while the upload runs.
    Upload.objects.filter(pk=upload.pk).update(stage=Upload.Stage.MATCHING, progress=60)
    expect(step("[data-step=matching]")).to_have_class("step-current")
    expect(step("[data-step=classifying]")).to_have_class("step-done")
    expect(step("[data-step=matching]")).to_have_attribute("aria-current", "step")
    assert page.evaluate("window.__samePage === true")

    Upload.objects.filter(pk=upload.pk).update(
        status=Upload.Status.FAILED, stage=Upload.Stage.FAILED, error="The image could not be read."
    )
    expect(step("[data-step=matching]")).to_have_class("step-failed")
    expect(step("[data-step=done]")).to_have_class("step-todo")
    expect(page.get_by_role("alert")).to_contain_text("The image could not be read.")
