"""The last choices of a run, made on validation with the training catalogue as index, and the
reports of every held-out part with and without the catalogue vote."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recommender.ml.vote import VoteConfig
from recommender.training import card as cards
from recommender.training import neighbours
from recommender.training.card import EVAL_VIEWS
from recommender.training.data import Painting

# outputs[part][view] = (probs, {embedding kind: vectors}), views in EVAL_VIEWS order
Outputs = Mapping[str, Sequence[tuple[np.ndarray, Mapping[str, np.ndarray]]]]


@dataclass
class Chosen:
    embedding: str
    retrieval_val: dict[str, dict[str, float]]
    vote: VoteConfig
    vote_grid: list[dict[str, float]]
    reports: dict[str, Any]
    test_probs: np.ndarray | None  # test, as the files are, with the vote (for the plots)


def choose_and_report(
    outputs: Outputs,
    labels: Mapping[str, np.ndarray],
    items: Mapping[str, Sequence[Painting]],
    index: neighbours.Index,
    classes: Sequence[str],
    progress: Callable[[str], None],
) -> Chosen:
    """Choose the search embedding (P@10) and the vote (top-1) on ``val``, then report every part."""
    val = outputs["val"]
    val_queries = {kind: {EVAL_VIEWS[v]: val[v][1][kind] for v in (0, 1)} for kind in index.embeddings}
    embedding, retrieval_val = neighbours.choose_embedding(
        val_queries, list(labels["val"]), [p.artist for p in items["val"]], index
    )
    progress(
        f"[embedding] chose {embedding}: " + "; ".join(f"{k} {v['criterion']:.3f}" for k, v in retrieval_val.items())
    )
    index_emb = index.embeddings[embedding]
    vote, vote_grid = neighbours.choose_vote(
        {EVAL_VIEWS[v]: val[v][0] for v in (0, 1)},
        {EVAL_VIEWS[v]: val[v][1][embedding] for v in (0, 1)},
        labels["val"],
        index_emb,
        index.labels,
    )
    progress(f"[vote] chose {vote.as_dict()}")

    reports: dict[str, Any] = {}
    for part, out in outputs.items():
        probs = {EVAL_VIEWS[v]: out[v][0] for v in range(len(EVAL_VIEWS))}
        emb = {EVAL_VIEWS[v]: out[v][1][embedding] for v in range(len(EVAL_VIEWS))}
        r = cards.report(labels[part], probs, emb["original"], items[part], classes, full=part in ("val", "test"))
        with_vote = {v: neighbours.voted(probs[v], emb[v], index_emb, index.labels, vote) for v in EVAL_VIEWS}
        rv = cards.report(labels[part], with_vote, emb["original"], items[part], classes, full=part in ("val", "test"))
        r["with_vote"] = {k: rv[k] for k in (*EVAL_VIEWS, "swap_agreement")}
        r["retrieval"] = neighbours.retrieval_scores(
            {v: emb[v] for v in EVAL_VIEWS[:2]}, index_emb, list(labels[part]), [p.artist for p in items[part]], index
        )
        reports[part] = r
        progress(cards.one_line(part, r))
    test_probs = None
    if "test" in outputs:
        t = outputs["test"][0]
        test_probs = neighbours.voted(t[0], t[1][embedding], index_emb, index.labels, vote)
    return Chosen(embedding, retrieval_val, vote, vote_grid, reports, test_probs)
