"""Choices made on validation with a catalogue index: the search embedding and the catalogue vote.

The index holds only *training* catalogue images (never a training-pack image, which the app's
catalogue does not hold, and never a validation or test image), so no held-out image can find
itself or its near-duplicate twin among its neighbours. In the app the index is the whole catalogue.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.evaluation import cosine_top_k, l2_normalise
from recommender.ml.vote import VoteConfig, blend, neighbour_vote
from recommender.training.data import Painting

K_PRECISION = 10
VOTE_KS = (5, 10, 20, 40)
VOTE_TEMPERATURES = (0.02, 0.05, 0.1)
VOTE_WEIGHTS = tuple(round(w, 2) for w in np.arange(0.0, 0.85, 0.1))


@dataclass(frozen=True)
class Index:
    """Training catalogue images: their embeddings (by kind), style indices and painters."""

    embeddings: Mapping[str, np.ndarray]
    labels: np.ndarray
    artists: Sequence[str]


def index_items(train: Sequence[Painting], held_out: Sequence[Painting]) -> list[Painting]:
    """The index the choices are made with: training catalogue images only. A held-out image is
    never in it (so it never votes for itself), nor is a pack image (the app's catalogue has none)."""
    held = {p.id for p in held_out}
    return [p for p in train if not p.pack and p.id not in held]


def blend_embeddings(pooled: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The ``blend`` embedding, as ``network.assemble_stats_network`` computes it."""
    return l2_normalise(l2_normalise(pooled) + l2_normalise(hidden))


def precision_at_k(neigh: np.ndarray, query: Sequence[Any], index: Sequence[Any], k: int = K_PRECISION) -> float:
    """Mean share of the first ``k`` neighbours whose value equals the query's; queries whose value
    is empty ("" = unknown painter) are skipped. nan when no query counts."""
    index_arr = np.asarray(index, dtype=object)
    rows = [np.mean(index_arr[neigh[i, :k]] == q) for i, q in enumerate(query) if q != ""]
    return float(np.mean(rows)) if rows else float("nan")


def retrieval_scores(
    queries: Mapping[str, np.ndarray], index_emb: np.ndarray, styles: Sequence[int], artists: Sequence[str], idx: Index
) -> dict[str, float]:
    """Same-style and same-painter P@10 of each query view against the index."""
    out: dict[str, float] = {}
    for view, q in queries.items():
        neigh, _ = cosine_top_k(q, index_emb, K_PRECISION)
        out[f"style_p10_{view}"] = precision_at_k(neigh, list(styles), list(idx.labels))
        out[f"painter_p10_{view}"] = precision_at_k(neigh, list(artists), list(idx.artists))
    return out


def choose_embedding(
    val: Mapping[str, Mapping[str, np.ndarray]], styles: Sequence[int], artists: Sequence[str], idx: Index
) -> tuple[str, dict[str, dict[str, float]]]:
    """The embedding kind with the best mean of same-style P@10 (as the files are, format-neutral)
    and same-painter P@10 (as the files are) on validation; ``val[kind][view]`` are the queries."""
    table = {kind: retrieval_scores(val[kind], idx.embeddings[kind], styles, artists, idx) for kind in val}

    def score(kind: str) -> float:
        t = table[kind]
        return float(np.mean([t["style_p10_original"], t["style_p10_format_neutral"], t["painter_p10_original"]]))

    for kind in table:
        table[kind]["criterion"] = score(kind)
    return max(table, key=score), table


def voted(probs: np.ndarray, emb: np.ndarray, index_emb: np.ndarray, labels: np.ndarray, cfg: VoteConfig) -> np.ndarray:
    """``probs`` after the vote of the ``cfg.k`` nearest index images."""
    if not cfg.active:
        return probs
    neigh, sims = cosine_top_k(emb, index_emb, cfg.k)
    return blend(probs, neighbour_vote(sims, labels[neigh], probs.shape[1], cfg.temperature), cfg.weight)


def choose_vote(
    probs: Mapping[str, np.ndarray],
    emb: Mapping[str, np.ndarray],
    y: np.ndarray,
    index_emb: np.ndarray,
    labels: np.ndarray,
) -> tuple[VoteConfig, list[dict[str, float]]]:
    """(k, temperature, weight) with the best mean top-1 over the views given (as the files are and
    format-neutral) on validation; weight 0 (no vote) is one of the candidates."""
    n_classes = next(iter(probs.values())).shape[1]
    neighbours = {view: cosine_top_k(emb[view], index_emb, max(VOTE_KS)) for view in probs}
    grid: list[dict[str, float]] = []
    best = (-1.0, VoteConfig())
    for k, temperature in itertools.product(VOTE_KS, VOTE_TEMPERATURES):
        votes = {
            view: neighbour_vote(sims[:, :k], labels[neigh[:, :k]], n_classes, temperature)
            for view, (neigh, sims) in neighbours.items()
        }
        for weight in VOTE_WEIGHTS:
            accs = {view: float((blend(probs[view], votes[view], weight).argmax(1) == y).mean()) for view in probs}
            score = float(np.mean(list(accs.values())))
            grid.append({"k": k, "temperature": temperature, "weight": weight, **accs, "criterion": score})
            # Ties go to the smaller weight and k: the simpler answer.
            if score > best[0] + 1e-9:
                best = (score, VoteConfig(k, temperature, weight) if weight > 0 else VoteConfig())
    return best[1], grid
