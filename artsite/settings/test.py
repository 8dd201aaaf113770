"""Test settings: the same real services, isolated from the demo data."""

import os
import tempfile
import uuid
from pathlib import Path

from .base import *  # noqa: F403

# Speed: password hashing dominates sign-up/sign-in tests otherwise.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Community Neo4j has one database: tests use their own node label and never touch the demo graph;
# a run with its own database (ARTSITE_TEST_DB) also gets its own label, so parallel runs never clear
# each other's graph.
NEO4J_ARTIST_LABEL = "TestArtist" + "".join(ch for ch in os.environ.get("ARTSITE_TEST_DB", "") if ch.isalnum())
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="artsite-test-media-"))
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="artsite-test-static-"))  # WhiteNoise warns when it is missing
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"uploads": "1000/minute"}}  # noqa: F405
# Parallel runs on one machine (several checkouts, or a developer beside CI) need their own database.
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("ARTSITE_TEST_DB", "test_artsite")}  # noqa: F405
# Each test run consumes its own Celery queue on the shared Redis: another run's worker never takes
# this run's tasks (and fails them against its own database).
CELERY_TASK_DEFAULT_QUEUE = f"artsite-test-{uuid.uuid4().hex[:12]}"
# Parallel runs share Redis: cached fragments are keyed by upload id, which restarts in every test database.
CACHES["default"]["KEY_PREFIX"] = f"artsite-test-{uuid.uuid4().hex[:12]}"  # noqa: F405
