"""A living catalogue: admin edits and zip imports are embedded by a real worker, no command needed."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Callable

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gallery.catalogue_folder import CatalogueFolder
from gallery.models import Artwork, Job
from recommender.search import nearest_artworks
from tests.factories import jpeg_bytes, style_get

pytestmark = pytest.mark.django_db(transaction=True)


def _until(predicate: Callable[[], object], timeout: float = 60, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _demo_image(index: int = 0) -> bytes:
    row = CatalogueFolder(settings.DEMO_CATALOGUE_DIR).catalogue().rows[index]
    return (settings.DEMO_CATALOGUE_DIR / row["file"]).read_bytes()


def _add_form(**fields) -> dict:
    return {"source_id": "cur-1", "title": "Added by a curator", "style": style_get().pk, "year": "", **fields}


def test_artwork_added_in_the_admin_is_embedded_by_the_worker(admin_client, style_model, worker):
    image = SimpleUploadedFile("new.jpg", _demo_image(0), content_type="image/jpeg")
    response = admin_client.post(reverse("admin:gallery_artwork_add"), _add_form(image=image))
    assert response.status_code == 302, response.content.decode()[:2000]
    artwork = Artwork.objects.get(source_id="cur-1")

    embedded = _until(
        lambda: Artwork.objects.filter(pk=artwork.pk, embedding__isnull=False).first(), what="the embedding"
    )
    assert embedded.embedding_version == style_model.version and embedded.embedding_error == ""
    assert np.isclose(np.linalg.norm(embedded.embedding), 1.0, atol=1e-3)
    # Search finds it at once: its own vector's nearest neighbour is itself.
    assert nearest_artworks(embedded.embedding, k=1)[0].artwork.pk == artwork.pk
    changelist = admin_client.get(reverse("admin:gallery_artwork_changelist")).content.decode()
    assert "embedding-state badge-done" in changelist and ">embedded<" in changelist


def test_replaced_image_is_pending_then_embedded_again(admin_client, style_model, worker):
    admin_client.post(
        reverse("admin:gallery_artwork_add"),
        _add_form(image=SimpleUploadedFile("a.jpg", _demo_image(0), content_type="image/jpeg")),
    )
    artwork = Artwork.objects.get(source_id="cur-1")
    first = _until(lambda: Artwork.objects.get(pk=artwork.pk).embedding, what="the first embedding")

    change = reverse("admin:gallery_artwork_change", args=[artwork.pk])
    admin_client.post(change, _add_form(image=SimpleUploadedFile("b.jpg", _demo_image(5), content_type="image/jpeg")))
    second = _until(
        lambda: (
            (a := Artwork.objects.get(pk=artwork.pk)).embedding is not None
            and not np.allclose(a.embedding, first)
            and a.embedding
        ),
        what="the new image's embedding",
    )
    assert float(np.dot(first, second)) < 0.999  # a different picture, a different vector


def test_unreadable_image_is_shown_as_failed_with_the_reason(admin_client, style_model, worker):
    # Valid JPEG header and start, then cut: Pillow accepts the upload form, decoding fails later.
    broken = jpeg_bytes(size=(400, 400))[:700]
    admin_client.post(
        reverse("admin:gallery_artwork_add"),
        _add_form(image=SimpleUploadedFile("cut.jpg", broken, content_type="image/jpeg")),
    )
    artwork = Artwork.objects.filter(source_id="cur-1").first()
    if artwork is None:
        pytest.skip("the admin's ImageField rejected the truncated file before saving (nothing to embed)")
    failed = _until(lambda: Artwork.objects.exclude(embedding_error="").filter(pk=artwork.pk).first(), what="failure")
    assert failed.embedding is None
    page = admin_client.get(reverse("admin:gallery_artwork_changelist") + "?embedding_state=failed").content.decode()
    assert "badge-failed" in page and "Added by a curator" in page


def _catalogue_zip(rows: int) -> bytes:
    src = settings.DEMO_CATALOGUE_DIR
    table = CatalogueFolder(src).catalogue()
    fields, picked = table.fields, table.rows[:rows]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields)
        writer.writeheader()
        writer.writerows([*picked, {**picked[0], "id": "bad-1", "style": "Cubism-ish"}])
        archive.writestr("catalogue/catalogue.csv", text.getvalue())
        archive.writestr("catalogue/artists.csv", (src / "artists.csv").read_text(encoding="utf-8"))
        for row in picked:
            archive.write(src / row["file"], f"catalogue/{row['file']}")
    return buffer.getvalue()


def test_zip_import_runs_as_jobs_and_the_new_works_get_embedded(admin_client, style_model, worker, graph_clean):
    archive = SimpleUploadedFile("cat.zip", _catalogue_zip(4), content_type="application/zip")
    response = admin_client.post(reverse("admin:gallery_artwork_import_zip"), {"archive": archive})
    assert response.status_code == 302 and response.url == reverse("jobs")

    job = _until(lambda: Job.objects.filter(kind=Job.Kind.IMPORT, status__in=["done", "failed"]).first(), what="import")
    assert job.status == Job.Status.DONE, job.error
    assert job.progress == job.total == 5
    assert "4 created" in job.message and "1 rejected" in job.message and "unknown style" in job.message
    embed = _until(lambda: Job.objects.filter(kind=Job.Kind.EMBED, status__in=["done", "failed"]).first(), what="embed")
    assert embed.status == Job.Status.DONE, embed.error
    assert Artwork.objects.count() == 4
    assert not Artwork.objects.filter(embedding__isnull=True).exists()
    page = admin_client.get(reverse("jobs")).content.decode()
    assert "4 created, 0 updated, 1 rejected" in page


def test_a_file_that_is_not_a_catalogue_zip_is_refused_and_nothing_starts(admin_client):
    for name, content, reason in [
        ("photo.zip", jpeg_bytes(), "not a zip archive"),
        ("empty.zip", _zip_with({"readme.txt": "hi"}), "no catalogue.csv"),
    ]:
        response = admin_client.post(
            reverse("admin:gallery_artwork_import_zip"), {"archive": SimpleUploadedFile(name, content)}
        )
        assert response.status_code == 200 and reason in response.content.decode()
    assert not Job.objects.exists()


def _zip_with(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_an_archive_with_paths_outside_its_folder_fails_the_job_with_the_reason(admin_client, worker):
    content = _zip_with({"catalogue.csv": "id,file,title,artist,style,genre,year,source\n", "../../evil.txt": "x"})
    admin_client.post(reverse("admin:gallery_artwork_import_zip"), {"archive": SimpleUploadedFile("x.zip", content)})
    job = _until(lambda: Job.objects.filter(status__in=["done", "failed"]).first(), what="the import job")
    assert job.status == Job.Status.FAILED and "unsafe path in the archive" in job.error
    assert not Artwork.objects.exists()
