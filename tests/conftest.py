"""Shared fixtures. Tests run against the real PostgreSQL, Redis and Neo4j that `make test` starts."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from tests.s3 import bucket_create, moto_server


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user("owner", "owner@example.com", "owner-pass-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("other", "other@example.com", "other-pass-123")


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser("boss", "boss@example.com", "boss-pass-123")


@pytest.fixture
def graph_clean(settings):
    """The Neo4j test label emptied before and after the test (never the demo graph's label)."""
    from recommender import graph

    assert settings.NEO4J_ARTIST_LABEL != "Artist"
    graph.ensure_schema()
    graph.clear()
    yield graph
    graph.clear()


@pytest.fixture(scope="session")
def style_model(tmp_path_factory):
    """The style model the app ships (recommender/artifacts/style); a tiny untrained one if absent.

    Loaded once per test session: TensorFlow start-up dominates otherwise.
    """
    from recommender.ml.style_model import StyleModel, get_style_model, set_style_model

    model = get_style_model()
    if not (model.artifact_dir / "model.keras").is_file():
        from gallery.styles import STYLE_DESCRIPTIONS
        from recommender.training.artefact import build_tiny_artifact

        model = StyleModel(build_tiny_artifact(tmp_path_factory.mktemp("tiny-model"), sorted(STYLE_DESCRIPTIONS)))
        set_style_model(model)
    model.load()
    return model


@pytest.fixture
def demo_catalogue(transactional_db, graph_clean, style_model, tmp_path) -> list[dict[str, str]]:
    """Two demo paintings per style imported (PostgreSQL + Neo4j) and embedded with the style model."""
    from gallery.catalogue_folder import CatalogueFolder, Table, write_table
    from gallery.services import catalogue_import
    from recommender.embeddings import catalogue_embed
    from recommender.influence_graph import graph_sync

    src = settings.DEMO_CATALOGUE_DIR
    table = CatalogueFolder(src).catalogue()
    per_style: Counter[str] = Counter()
    picked = []
    for row in table.rows:
        if per_style[row["style"]] < 2:
            per_style[row["style"]] += 1
            picked.append(row)
    directory = tmp_path / "catalogue-slice"
    (directory / "images").mkdir(parents=True)
    for row in picked:
        shutil.copy(src / row["file"], directory / row["file"])
    write_table(directory / "catalogue.csv", Table(table.fields, picked))
    shutil.copy(src / "artists.csv", directory / "artists.csv")
    shutil.copy(src / "influences.csv", directory / "influences.csv")
    catalogue_import(directory=directory)
    graph_sync()
    catalogue_embed(model=style_model, batch=16)
    return picked


@pytest.fixture
def neo4j_down(settings):
    """Point the app at a port where nothing listens: a real connection failure, then restore."""
    from recommender import graph

    graph.close_driver()
    previous = settings.NEO4J_URI, settings.NEO4J_TIMEOUT_S
    settings.NEO4J_URI, settings.NEO4J_TIMEOUT_S = "bolt://127.0.0.1:1", 1
    yield
    settings.NEO4J_URI, settings.NEO4J_TIMEOUT_S = previous
    graph.close_driver()


@pytest.fixture(autouse=True)
def _default_styles(request):
    """Transactional tests flush the database, data migrations included: put the 13 styles back."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & {"db", "transactional_db"}:
        return
    transactional = "transactional_db" in names or (marker is not None and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    from gallery.services import styles_ensure_defaults

    styles_ensure_defaults()


@pytest.fixture
def worker(transactional_db):
    """A real Celery worker in a thread of this process, on the real Redis broker.

    It sees the same test database and the style model the session fixture loaded. It consumes this
    test run's own queue (artsite.settings.test), so parallel runs never take each other's tasks.
    """
    from celery.contrib.testing.worker import start_worker

    from artsite.celery import app

    with start_worker(app, pool="solo", concurrency=1, perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server (moto's, in its own process) for the session; stopped after it."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> str:
    """A fresh, empty bucket on that server."""
    return bucket_create(s3_endpoint)
