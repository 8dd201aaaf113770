"""Model versions without downtime: embed beside the active version, search keeps answering, one switch."""

from __future__ import annotations

import time

import numpy as np
import pytest
from django.core.management import call_command

from gallery.models import Artwork, ArtworkEmbedding, Job, StyleModelVersion
from recommender import versions
from recommender.search import nearest_artworks
from recommender.training.artefact import build_tiny_artifact

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session")
def second_version(style_model, tmp_path_factory):
    """A root with the session's model and a second, different one (random head: other vectors)."""
    root = tmp_path_factory.mktemp("style-root")
    (root / style_model.artifact_dir.name).symlink_to(style_model.artifact_dir, target_is_directory=True)
    build_tiny_artifact(root / "v2", style_model.classes)
    return root, "tiny-v2"


@pytest.fixture
def two_versions(settings, second_version):
    root, version = second_version
    settings.STYLE_MODEL_DIR = root
    return version


def test_switch_keeps_search_answering_and_ends_with_one_active_version(
    demo_catalogue, style_model, two_versions, worker, owner
):
    old, new = style_model.version, two_versions
    query_artwork = Artwork.objects.order_by("id").first()
    old_vector = np.array(query_artwork.embedding)
    n = Artwork.objects.count()

    job = versions.version_activate(version=new)
    answered_while_running, checks = 0, 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job.refresh_from_db()
        results = nearest_artworks(old_vector, k=5)  # a query made with the old model's vector
        assert len(results) == 5  # never an empty or partial answer during the switch
        if job.status == Job.Status.RUNNING:
            answered_while_running += 1
            # Until the flip, search answers from the old version: the query's own work is its nearest.
            if versions.active_version() == old:
                assert results[0].artwork.pk == query_artwork.pk
                checks += 1
        if job.status in {Job.Status.DONE, Job.Status.FAILED}:
            break
    assert job.status == Job.Status.DONE, job.error
    assert answered_while_running > 0 and checks > 0

    assert list(StyleModelVersion.objects.filter(state="active").values_list("version", flat=True)) == [new]
    assert versions.active_version() == new
    assert set(Artwork.objects.values_list("embedding_version", flat=True)) == {new}
    assert job.progress == job.total == n
    # The new vectors are the new model's: the query work's vector changed and is found by itself.
    switched = Artwork.objects.get(pk=query_artwork.pk)
    assert not np.allclose(switched.embedding, old_vector)
    assert nearest_artworks(switched.embedding, k=1)[0].artwork.pk == query_artwork.pk
    # The old vectors are kept (switching back is a copy) until prune_embeddings drops them.
    assert ArtworkEmbedding.objects.filter(version=old).count() == n
    assert not ArtworkEmbedding.objects.filter(version=new).exists()
    call_command("prune_embeddings")
    assert not ArtworkEmbedding.objects.exists()

    # The pipeline flipped with search: a new upload is analysed with the new version.
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gallery.models import Upload
    from gallery.services import upload_create

    image = (settings.DEMO_CATALOGUE_DIR / demo_catalogue[0]["file"]).read_bytes()
    upload = upload_create(owner=owner, image_file=SimpleUploadedFile("p.jpg", image))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Upload.objects.get(pk=upload.pk).is_finished:
        time.sleep(0.1)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.DONE and upload.model_version == new
    assert set(upload.predictions.values_list("model_version", flat=True)) == {new}


def test_switching_back_reuses_the_kept_vectors(demo_catalogue, style_model, two_versions):
    old, new = style_model.version, two_versions
    call_command("activate_style_model", new, "--foreground")
    before = dict(ArtworkEmbedding.objects.filter(version=old).values_list("artwork_id", "vector"))
    call_command("activate_style_model", old, "--foreground")
    assert versions.active_version() == old
    for artwork_id, vector in Artwork.objects.values_list("id", "embedding"):
        assert np.allclose(vector, before[artwork_id])
    job = Job.objects.order_by("-id").first()
    assert "0 embedded" in job.message  # nothing recomputed: every old vector was still there


def test_activation_refuses_unknown_or_active_versions_and_changes_nothing(style_model, two_versions):
    with pytest.raises(versions.UnknownVersion, match="no style model 'nope'"):
        versions.version_activate(version="nope")
    with pytest.raises(ValueError, match="already the active"):
        versions.version_activate(version=style_model.version)
    assert not Job.objects.exists()
    assert not StyleModelVersion.objects.exists()  # the refusal rolled everything back


def test_embed_catalogue_only_writes_the_active_version(demo_catalogue, style_model, two_versions):
    from recommender.embeddings import catalogue_embed

    with pytest.raises(ValueError, match="not the active style model"):
        catalogue_embed(model=versions.style_model_for(two_versions))
    assert set(Artwork.objects.values_list("embedding_version", flat=True)) == {style_model.version}


def test_make_run_switches_to_the_configured_model(demo_catalogue, style_model, two_versions, second_version):
    """`embed_catalogue --follow-configured` (make run): when CURRENT names another model than the
    active one, the catalogue is embedded with it beside the old vectors and the site switches."""
    from recommender.ml.style_model import StyleModel, set_style_model

    root, _ = second_version
    call_command("embed_catalogue", verbosity=0)
    assert versions.active_version() == style_model.version
    set_style_model(StyleModel(root / "v2"))  # what a pull that moved CURRENT looks like
    try:
        call_command("embed_catalogue", verbosity=0)  # without the flag a new CURRENT changes nothing
        assert versions.active_version() == style_model.version
        call_command("embed_catalogue", follow_configured=True, verbosity=0)
    finally:
        set_style_model(style_model)
    assert versions.active_version() == two_versions
    assert set(Artwork.objects.values_list("embedding_version", flat=True)) == {two_versions}
    assert StyleModelVersion.objects.get(version=style_model.version).state == StyleModelVersion.State.RETIRED


def test_artwork_added_during_a_switch_gets_both_versions(demo_catalogue, style_model, two_versions):
    from recommender.embeddings import artwork_embed
    from tests.factories import artwork_create

    StyleModelVersion.objects.create(version=two_versions, state=StyleModelVersion.State.EMBEDDING)
    source = Artwork.objects.order_by("id").first()
    artwork = artwork_create(title="Late arrival")
    artwork.image.name = source.image.name
    artwork.save(update_fields=["image"])
    assert artwork_embed(artwork_id=artwork.pk) == "embedded"
    artwork.refresh_from_db()
    assert artwork.embedding_version == style_model.version
    assert ArtworkEmbedding.objects.filter(artwork=artwork, version=two_versions).exists()


def test_admin_starts_a_switch_from_the_trained_versions_on_disk(admin_client, style_model, two_versions):
    from django.urls import reverse

    from artsite.celery import app

    add = reverse("admin:gallery_stylemodelversion_add")
    assert f'value="{two_versions}"' in admin_client.get(add).content.decode()
    app.control.purge()
    try:
        response = admin_client.post(add, {"version": two_versions}, follow=True)
    finally:
        app.control.purge()  # no worker in this test: drop the queued job message
    assert "Switch job #" in response.content.decode()
    job = Job.objects.get()
    assert job.kind == Job.Kind.SWITCH and job.params == {"version": two_versions}
    assert StyleModelVersion.objects.get(version=two_versions).state == StyleModelVersion.State.EMBEDDING
    assert versions.active_version() == style_model.version  # nothing switches before the job ran


def test_past_upload_keeps_its_results_and_can_be_reanalysed_with_the_current_model(
    demo_catalogue, style_model, owner, other_user, client, worker
):
    from django.urls import reverse

    from gallery.models import Prediction, Style, Upload
    from tests.factories import upload_create

    old = upload_create(owner=owner, status=Upload.Status.DONE, stage=Upload.Stage.DONE, model_version="style-old-v1")
    Prediction.objects.create(
        upload=old, style=Style.objects.first(), probability=0.9, rank=1, model_version="style-old-v1"
    )
    page = reverse("gallery:upload_detail", args=[old.pk])
    reanalyse = reverse("gallery:upload_reanalyse", args=[old.pk])

    client.force_login(other_user)
    assert client.post(reanalyse).status_code == 404  # someone else's upload: nothing to see, nothing made
    client.force_login(owner)
    assert "Re-analyse with the current model" in client.get(page).content.decode()
    response = client.post(reanalyse)
    again = Upload.objects.exclude(pk=old.pk).get()
    assert response.status_code == 302 and response.url == again.get_absolute_url()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not Upload.objects.get(pk=again.pk).is_finished:
        time.sleep(0.1)
    again.refresh_from_db()
    assert again.status == Upload.Status.DONE, again.error
    assert again.model_version == style_model.version
    assert again.image.name != old.image.name  # its own copy
    old.refresh_from_db()
    assert old.model_version == "style-old-v1"
    assert list(old.predictions.values_list("model_version", flat=True)) == ["style-old-v1"]
    # Already from the current model: the button answers so, and makes nothing.
    response = client.post(reverse("gallery:upload_reanalyse", args=[again.pk]), follow=True)
    assert "already come from the current model" in response.content.decode()
    assert Upload.objects.count() == 2


def test_admin_refuses_to_switch_to_the_active_version(admin_client, style_model, two_versions):
    from django.urls import reverse

    response = admin_client.post(reverse("admin:gallery_stylemodelversion_add"), {"version": style_model.version})
    assert response.status_code == 200 and "is already the active style model" in response.content.decode()
    assert not Job.objects.exists()


def test_worker_warm_up_loads_the_active_version_not_the_configured_one(style_model, two_versions):
    """After a switch the configured artefact is no longer what uploads use: a restarted worker
    child must warm the active one, or its first upload pays the whole model load."""
    from recommender.tasks import _warm_up_model

    StyleModelVersion.objects.create(version=two_versions, state=StyleModelVersion.State.ACTIVE)
    versions._models.pop(two_versions, None)  # as in a fresh worker child: nothing loaded yet
    active = versions.style_model_for(two_versions)
    assert active is not style_model and not active._loaded

    _warm_up_model()

    assert active._loaded
