"""Shared fixtures. Tests run against the real PostgreSQL, Redis and Neo4j that `make test` starts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model


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
