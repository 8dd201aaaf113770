"""The style answer the site gives: the classifier's probabilities mixed with the vote of the
nearest catalogue works (``recommender.ml.vote``), as the active model's card prescribes.

The vote needs the catalogue's vectors to come from the same model as the query's embedding, so it
is only cast with the active version (whose vectors search holds); any other model answers alone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from recommender.ml.vote import VoteConfig, vote_for
from recommender.search import Neighbour, nearest_artworks_many
from recommender.versions import active_version

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


def catalogue_neighbours(*, model: Any, embeddings: np.ndarray, at_least: int = 0) -> list[list[Neighbour]]:
    """The nearest catalogue works of each embedding, as many as the vote needs (or `at_least`): one
    pgvector query per embedding, in one transaction, that the vote and the duplicate check both read."""
    cfg = VoteConfig.from_card(model.card)
    k = max(cfg.k if cfg.active else 0, at_least)
    return nearest_artworks_many(embeddings, k=k) if k else [[] for _ in embeddings]


def voted_probabilities(
    *, model: Any, probs: np.ndarray, embeddings: np.ndarray, neighbours: list[list[Neighbour]] | None = None
) -> np.ndarray:
    """(N, n_classes) probabilities after the catalogue's vote; ``probs`` unchanged when the model's
    card has no vote or the model is not the active version. `neighbours` (from
    `catalogue_neighbours`) saves the queries when the caller has them already."""
    cfg = VoteConfig.from_card(model.card)
    if not cfg.active:
        return probs
    if model.version != active_version():
        logger.info("style vote skipped: %s is not the active version", model.version)
        return probs
    if neighbours is None:  # catalogue_neighbours asks for at least cfg.k; fewer means the catalogue has no more
        neighbours = nearest_artworks_many(embeddings, k=cfg.k)
    found = [row[: cfg.k] for row in neighbours]
    sims = [[n.similarity for n in row] for row in found]
    styles = [[n.artwork.style.name for n in row] for row in found]
    return vote_for(probs, sims, styles, model.classes, cfg)
