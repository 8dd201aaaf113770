"""The style answer the site gives: the classifier's probabilities mixed with the vote of the
nearest catalogue works (``recommender.ml.vote``), as the active model's card prescribes.

The vote needs the catalogue's vectors to come from the same model as the query's embedding, so it
is only cast with the active version (whose vectors search holds); any other model answers alone.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from recommender.ml.vote import VoteConfig, vote_for
from recommender.search import nearest_artworks
from recommender.versions import active_version

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)


def voted_probabilities(*, model: Any, probs: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """(N, n_classes) probabilities after the catalogue's vote; ``probs`` unchanged when the model's
    card has no vote or the model is not the active version."""
    cfg = VoteConfig.from_card(model.card)
    if not cfg.active:
        return probs
    if model.version != active_version():
        logger.info("style vote skipped: %s is not the active version", model.version)
        return probs
    found = [nearest_artworks(vector, k=cfg.k) for vector in embeddings]
    sims = [[n.similarity for n in row] for row in found]
    styles = [[n.artwork.style.name for n in row] for row in found]
    return vote_for(probs, sims, styles, model.classes, cfg)
