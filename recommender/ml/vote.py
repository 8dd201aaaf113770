"""The catalogue's vote: the styles of an image's nearest catalogue works, as evidence beside the
classifier. numpy only (no TensorFlow), so the worker's matching step and training share it.

``vote[c] = sum_j softmax(sim_j / temperature)[j] * [style_j == c]`` over the ``k`` nearest works,
and the answer is ``(1 - weight) * probs + weight * vote``. ``k``, ``temperature`` and ``weight``
are chosen on validation by the training run and stored in the model card (``"vote"``); a card
without them (or weight 0) leaves the classifier's probabilities as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class VoteConfig:
    k: int = 0
    temperature: float = 0.05
    weight: float = 0.0

    @property
    def active(self) -> bool:
        return self.k > 0 and self.weight > 0

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> VoteConfig:
        vote = card.get("vote") or {}
        return cls(int(vote.get("k", 0)), float(vote.get("temperature", 0.05)), float(vote.get("weight", 0.0)))

    def as_dict(self) -> dict[str, float | int]:
        return {"k": int(self.k), "temperature": float(self.temperature), "weight": float(self.weight)}


def neighbour_vote(similarities: np.ndarray, labels: np.ndarray, n_classes: int, temperature: float) -> np.ndarray:
    """(N, k) similarities and (N, k) class indices (-1: a work without a known style, ignored)
    -> (N, n_classes) vote distributions (all zero for a row with no labelled neighbour)."""
    sims = np.asarray(similarities, dtype=np.float64)
    labels = np.asarray(labels)
    known = labels >= 0
    w = np.exp((sims - sims.max(axis=1, keepdims=True, initial=-np.inf)) / temperature) * known
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total > 0)
    out = np.zeros((len(sims), n_classes))
    rows = np.repeat(np.arange(len(sims)), sims.shape[1])
    np.add.at(out, (rows[known.ravel()], labels.ravel()[known.ravel()]), w.ravel()[known.ravel()])
    return out.astype(np.float32)


def blend(probs: np.ndarray, vote: np.ndarray, weight: float) -> np.ndarray:
    """The classifier and the vote, mixed; a row with no vote keeps the classifier's answer."""
    probs = np.asarray(probs, dtype=np.float32)
    has_vote = vote.sum(axis=1, keepdims=True) > 0
    return np.where(has_vote, (1 - weight) * probs + weight * vote, probs).astype(np.float32)


def vote_for(
    probs: np.ndarray,
    similarities: np.ndarray,
    styles: Sequence[Sequence[str]],
    classes: Sequence[str],
    cfg: VoteConfig,
) -> np.ndarray:
    """The app's entry: neighbours' style names (as the catalogue stores them) -> blended probabilities."""
    if not cfg.active:
        return np.asarray(probs, dtype=np.float32)
    index = {c: i for i, c in enumerate(classes)}
    k = min(cfg.k, max((len(s) for s in styles), default=0))
    labels = np.full((len(styles), k), -1, np.int64)
    sims = np.full((len(styles), k), -1.0, np.float32)
    for row, (names, row_sims) in enumerate(zip(styles, similarities, strict=True)):
        for j, (name, sim) in enumerate(list(zip(names, row_sims, strict=True))[:k]):
            labels[row, j] = index.get(name, -1)
            sims[row, j] = sim
    return blend(probs, neighbour_vote(sims, labels, len(classes), cfg.temperature), cfg.weight)
