"""The site's style answer: the classifier mixed with the vote of the nearest catalogue works."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gallery.models import Artwork
from recommender.ml.preprocess import load_image
from recommender.ml.vote import VoteConfig, vote_for
from recommender.search import nearest_artworks
from recommender.style_vote import voted_probabilities
from recommender.versions import active_version

pytestmark = pytest.mark.slow


def _pixels(work: Artwork) -> np.ndarray:
    with work.image.open("rb") as handle:
        return load_image(handle)


def _with_vote(model, vote: VoteConfig, version: str | None = None) -> SimpleNamespace:
    """The shipped model under a card that prescribes ``vote`` (what the answer depends on)."""
    return SimpleNamespace(card={"vote": vote.as_dict()}, version=version or model.version, classes=model.classes)


def test_a_catalogue_painting_is_answered_with_the_votes_of_its_neighbours(demo_catalogue, style_model) -> None:
    work = Artwork.objects.select_related("style").first()
    probs, emb = style_model.predict_and_embed(_pixels(work)[None])
    assert style_model.version == active_version()
    vote = VoteConfig(k=5, temperature=0.02, weight=0.6)

    voted = voted_probabilities(model=_with_vote(style_model, vote), probs=probs, embeddings=emb)

    near = nearest_artworks(emb[0], k=5)
    assert near[0].artwork.pk == work.pk  # the painting itself is in the catalogue and votes
    expected = vote_for(
        probs, [[n.similarity for n in near]], [[n.artwork.style.name for n in near]], style_model.classes, vote
    )
    np.testing.assert_allclose(voted, expected, atol=1e-6)
    assert style_model.classes[int(voted[0].argmax())] == work.style.name
    assert not np.allclose(voted, probs)
    np.testing.assert_allclose(voted.sum(axis=1), 1.0, atol=1e-5)


def test_no_vote_without_one_in_the_card_or_for_another_version(demo_catalogue, style_model) -> None:
    work = Artwork.objects.first()
    probs, emb = style_model.predict_and_embed(_pixels(work)[None])
    vote = VoteConfig(k=5, temperature=0.02, weight=0.6)
    same = voted_probabilities(model=_with_vote(style_model, VoteConfig()), probs=probs, embeddings=emb)
    np.testing.assert_array_equal(same, probs)
    # The catalogue's vectors are the active version's: another model's embedding cannot search them.
    other = voted_probabilities(model=_with_vote(style_model, vote, "another-version"), probs=probs, embeddings=emb)
    np.testing.assert_array_equal(other, probs)


def test_the_vote_and_the_duplicate_check_share_one_neighbour_query(demo_catalogue, owner, style_model) -> None:
    from django.conf import settings
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from gallery import services
    from recommender.tasks import analyse_upload

    row = demo_catalogue[0]
    image = SimpleUploadedFile("copy.jpg", (settings.DEMO_CATALOGUE_DIR / row["file"]).read_bytes())
    upload = services.upload_create(owner=owner, image_file=image)
    with CaptureQueriesContext(connection) as queries:
        analyse_upload.apply(args=[upload.pk])
    nearest = [q["sql"] for q in queries.captured_queries if "<=>" in q["sql"]]
    # The task runs the match step after the analysis: one query serves the vote, the duplicate check
    # and the similar works (it was one each), which leave the recognised copy out in Python.
    assert len(nearest) == 1, nearest
    upload.refresh_from_db()
    assert " IN (" not in nearest[0] and "LIMIT 61" in nearest[0]
    assert upload.insight.duplicate_of_id not in set(upload.matches.values_list("artwork_id", flat=True))
    assert upload.matches.count() == 10
    # Both still answer: the copy is recognised, and its style is the vote's answer.
    assert upload.insight.duplicate_of.source_id == row["id"]
    assert upload.predictions.exists()
