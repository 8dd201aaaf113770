"""The Content-Security-Policy in a real browser: every page loads with no violation, and what the
pages' own scripts and style attributes do still happens (progress bars, results bars, Swagger UI).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from gallery.models import Prediction, Style, Upload
from tests.factories import artwork_create, jpeg_bytes, upload_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script: records every violation the browser reports.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  var where = e.sourceFile + ':' + e.lineNumber;
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + where);
});
"""


def _visit(page, path: str, *, waits_on: str = "") -> list[str]:
    """Load `path` and let its scripts run; a page whose script keeps a request open (the running
    upload's status request waits for a change, `waits_on`) never goes network-idle: wait for that
    request to be sent instead."""
    if waits_on:
        with page.expect_request(lambda request: waits_on in request.url):
            response = page.goto(path)
    else:
        response = page.goto(path)
    assert response is not None and "content-security-policy" in response.headers, path
    if not waits_on:
        page.wait_for_load_state("networkidle")
    return page.evaluate("window.__csp")


def _sign_in(page, username: str, password: str) -> None:
    page.goto(reverse("login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.locator(".user-name").wait_for()


def test_pages_load_with_no_csp_violation_and_their_scripts_and_styles_work(page, owner, admin_user) -> None:
    page.context.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None)
    artwork = artwork_create(title="Water Lilies")
    running = upload_create(owner=owner, status=Upload.Status.RUNNING, stage=Upload.Stage.MATCHING, progress=60)
    done = upload_create(owner=owner, status=Upload.Status.DONE, stage=Upload.Stage.DONE, progress=100)
    Prediction.objects.create(upload=done, style=Style.objects.get(name="Impressionism"), probability=0.75, rank=1)

    violations: dict[str, list[str]] = {}
    for path in ["/", "/artworks/", artwork.get_absolute_url(), "/artists/", "/accounts/signup/", "/no-such-page/"]:
        violations[path] = _visit(page, path)

    page.goto("/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()  # Swagger UI started from its script file
    violations["/api/docs/"] = page.evaluate("window.__csp")

    _sign_in(page, "owner", "owner-pass-123")
    for path in ["/upload/", "/history/", reverse("password_change"), reverse("account_tokens")]:
        violations[path] = _visit(page, path)

    violations["/upload/ with a file"] = _visit(page, "/upload/")
    page.set_input_files(".dropzone-input", files=[{"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}])
    preview = page.locator("[data-preview]")  # upload_form.js shows the chosen file from a blob: URL
    preview.wait_for(state="visible")
    assert preview.evaluate("img => img.complete && img.naturalWidth > 0")
    violations["/upload/ with a file"] += page.evaluate("window.__csp")

    violations["running"] = _visit(page, running.get_absolute_url(), waits_on="/status/?wait=")
    bar = page.locator(".progress-bar")  # width set by a style attribute, then by upload_status.js
    assert bar.evaluate("el => el.getBoundingClientRect().width") > 0
    violations["done"] = _visit(page, done.get_absolute_url())
    fill = page.locator(".style-bar-fill").first
    track = page.locator(".style-bar-track").first
    ratio = fill.evaluate("el => el.getBoundingClientRect().width") / track.evaluate(
        "el => el.getBoundingClientRect().width"
    )
    assert ratio == pytest.approx(0.75, abs=0.05)  # the probability bar's inline width applies

    page.context.clear_cookies()
    _sign_in(page, "boss", "boss-pass-123")
    for path in ["/admin/", "/admin/gallery/artwork/", f"/admin/gallery/artwork/{artwork.pk}/change/"]:
        violations[path] = _visit(page, path)

    assert not {path: found for path, found in violations.items() if found}, violations
    assert not console, console
