"""Every page, old and new, checked with axe-core in Chromium: no serious or critical WCAG 2 A/AA violation.

The catalogue, the painter links and a finished upload with its stored results are built with the
factories (the pages only read stored rows; the pipeline itself is walked in test_e2e.py). Pages are
checked signed out and signed in, in the states a person sees: an empty form, a form with errors,
a finished upload's results.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from gallery.models import Match, Prediction, Style, Upload
from tests.browser.conftest import axe_violations, describe_violations
from tests.factories import artist_create, artwork_create, influence_create, upload_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _catalogue() -> dict[str, object]:
    monet = artist_create(name="Claude Monet", birth_year=1840, death_year=1926, nationality="French")
    boudin = artist_create(name="Eugène Boudin", birth_year=1824, death_year=1898, nationality="French")
    influence_create(artist=monet, influencer=boudin)
    impressionism = Style.objects.get(name="Impressionism")
    works = [
        artwork_create(title=f"Water Lilies {i}", artist=monet, style=impressionism, year=1900 + i) for i in range(6)
    ]
    works += [artwork_create(title="Beach at Trouville", artist=boudin, style=impressionism, year=1864)]
    return {"monet": monet, "works": works, "style": impressionism}


def _finished_upload(owner, catalogue: dict) -> Upload:
    upload = upload_create(
        owner=owner,
        status=Upload.Status.DONE,
        stage=Upload.Stage.DONE,
        progress=100,
        model_version="test-model",
        query_artist=catalogue["monet"],
        artist_hint="Claude Monet",
    )
    styles = [catalogue["style"], *Style.objects.exclude(pk=catalogue["style"].pk)[:4]]
    Prediction.objects.bulk_create(
        Prediction(upload=upload, style=style, probability=p, rank=i + 1, model_version="test-model")
        for i, (style, p) in enumerate(zip(styles, [0.62, 0.2, 0.1, 0.05, 0.03], strict=True))
    )
    Match.objects.bulk_create(
        Match(
            upload=upload,
            artwork=work,
            rank=i + 1,
            visual_score=0.9 - i / 20,
            influence_score=0.5 if i % 2 == 0 else -0.25,
            final_score=0.95 - i / 20,
            influence_path=["Claude Monet", "influenced by", "Eugène Boudin"] if i == 6 else [],
        )
        for i, work in enumerate(catalogue["works"])
    )
    return upload


def _sign_in(page, username: str, password: str) -> None:
    page.goto(reverse("login"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.form button[type=submit]")
    page.locator(".user-name").wait_for()


def test_every_page_has_no_serious_accessibility_violation(page, screenshot, owner, admin_user):
    catalogue = _catalogue()
    upload = _finished_upload(owner, catalogue)
    artwork = catalogue["works"][0]
    failures: dict[str, str] = {}

    def visit(name: str, url: str | None = None) -> None:
        if url is not None:
            page.goto(url)
        page.wait_for_load_state("networkidle")
        violations = axe_violations(page)
        if violations:
            failures[name] = describe_violations(violations)
            screenshot(page, f"a11y-{name}")

    signed_out = {
        "home": reverse("gallery:home"),
        "sign-in": reverse("login"),
        "sign-up": reverse("signup"),
        "catalogue": reverse("gallery:artwork_list"),
        "catalogue-filtered": reverse("gallery:artwork_list") + f"?style={catalogue['style'].slug}",
        "artwork": reverse("gallery:artwork_detail", args=[artwork.pk]),
        "painters": reverse("gallery:artist_list"),
        "painter": reverse("gallery:artist_detail", args=[catalogue["monet"].slug]),
        "admin-login": reverse("admin:login"),
    }
    for name, url in signed_out.items():
        visit(name, url)

    # A form sent empty comes back with its errors: those states must be readable too.
    page.goto(reverse("signup"))
    page.click("form.form button[type=submit]")
    visit("sign-up-errors")

    _sign_in(page, "owner", "owner-pass-123")
    signed_in = {
        "upload-form": reverse("gallery:upload_create"),
        "results": reverse("gallery:upload_detail", args=[upload.pk]),
        "history": reverse("gallery:history"),
        "account": reverse("password_change"),
        "home-signed-in": reverse("gallery:home"),
    }
    for name, url in signed_in.items():
        visit(name, url)
    page.goto(reverse("gallery:upload_create"))
    page.click("[data-submit]")
    visit("upload-form-errors")

    assert not failures, "\n".join(f"[{name}]\n{text}" for name, text in failures.items())


def test_the_check_finds_a_real_violation(page, live_server):
    """The checker is not a no-op: grey-on-grey text and a colour-only link are reported."""
    page.goto(reverse("gallery:home"))
    page.set_content(
        '<html lang="en"><head><title>t</title></head><body><main>'
        '<p style="color:#aaa;background:#eee">Faint text that nobody can read</p>'
        '<p style="color:#000">Some words and <a href="/x" style="color:#222;text-decoration:none">a link</a> '
        "inside a paragraph of text.</p></main></body></html>"
    )
    ids = {violation["id"] for violation in axe_violations(page)}
    assert "color-contrast" in ids
