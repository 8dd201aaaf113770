"""What a training run reports: metrics of a held-out part under its renderings, and the card text."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recommender.training import metrics
from recommender.training.augment import NEUTRAL_SIDE
from recommender.training.data import Painting, Split
from recommender.training.finetune import FitState
from recommender.training.network import BACKBONE_LABEL, StatsCut

if TYPE_CHECKING:
    from recommender.training.choose import Chosen

EVAL_VIEWS = ("original", "format_neutral", "format_swapped")

EVALUATION_VIEWS_TEXT = {
    "original": "the file as it is, through the app's preprocessing",
    "format_neutral": f"centre square resized to {NEUTRAL_SIDE}x{NEUTRAL_SIDE} px first (one geometry, one resolution)",
    "format_swapped": "format A re-rendered as B (portrait 0.78 or landscape 1.28 aspect, longest side 224, "
    "JPEG q85) and B/R as A (224x224 squash, JPEG q85); swap_agreement = same top style as the original",
    "format_probe": "5-fold logistic regression on the embedding predicting format A vs B within "
    "Baroque and Impressionism; balanced accuracy, 0.5 = chance",
    "format_a_into_b_styles": "share of format-A paintings of A styles predicted as one of the five B-only styles",
    "vote": "with_vote: the classifier mixed with the similarity-weighted styles of the nearest training "
    "catalogue works (the app uses the whole catalogue); the index never holds a held-out image",
}


def report(
    y: np.ndarray,
    probs: dict[str, np.ndarray],
    emb: np.ndarray,
    part: Sequence[Painting],
    classes: Sequence[str],
    *,
    full: bool,
) -> dict[str, Any]:
    """Metrics of one held-out part under the three renderings, plus the format checks."""
    fmts = [p.fmt for p in part]
    out: dict[str, Any] = {}
    for name, pr in probs.items():
        m = metrics.evaluate_probs(y, pr, classes)
        out[name] = m if (full and name == "original") else metrics.summary(m)
        out[name]["format_a_into_b_styles"] = metrics.format_flip_rate(y, pr, fmts, classes)
        out[name]["top1_by_format"] = {
            f: float((pr[mask].argmax(1) == y[mask]).mean())
            for f in ("A", "B", "R")
            if (mask := np.array([x == f for x in fmts])).any()
        }
    out["swap_agreement"] = metrics.agreement(probs["original"], probs["format_swapped"])
    out["neutral_agreement"] = metrics.agreement(probs["original"], probs["format_neutral"])
    out["format_probe"] = metrics.format_probe(emb, fmts, [p.style for p in part])
    return out


def one_line(part: str, r: dict[str, Any]) -> str:
    o, n = r["original"], r["format_neutral"]
    line = (
        f"[{part}] top-1 {o['top1']:.3f} top-3 {o['top3']:.3f} F1 {o['macro_f1']:.3f} | "
        f"neutral {n['top1']:.3f} (A->B {n['format_a_into_b_styles']}) | "
        f"swap agreement {r['swap_agreement']:.3f} | probe {r['format_probe'].get('balanced_accuracy')}"
    )
    if "with_vote" in r:
        v = r["with_vote"]
        line += f" | with vote {v['original']['top1']:.3f} / neutral {v['format_neutral']['top1']:.3f}"
    return line


def build_card(
    *,
    cfg: Any,
    hp: dict[str, Any],
    version: str,
    started: datetime,
    cut: StatsCut,
    head_kind: str,
    head_results: Mapping[str, dict[str, Any]],
    fit: FitState,
    split: Split,
    by_id: Mapping[str, Painting],
    n_index: int,
    chosen: Chosen,
    times: dict[str, float],
    classes: Sequence[str],
) -> dict[str, Any]:
    """The model card: every number and knob of the run (``cfg`` is its ``TrainConfig``)."""
    return {
        "version": version,
        "date": started.isoformat(timespec="seconds"),
        "backbone": BACKBONE_LABEL,
        "backbone_file": Path(cfg.backbone_path).name,
        "input": "float32 RGB 0..255, (N, 224, 224, 3); shorter side resized to 224, center crop "
        "(recommender.ml.preprocess.load_image); the model rescales itself",
        "outputs": {
            "probs": f"(N, {len(classes)}) softmax",
            "embedding": f"(N, 1280) L2-normalised, kind '{chosen.embedding}'",
        },
        "classes": list(classes),
        "method": (
            f"ImageNet EfficientNet-Lite0{' started from ' + cfg.init_from if cfg.init_from else ''}, cut at "
            f"'{cut.cut}'; frozen bottom activations cached for {cfg.train_views} format-randomising views per "
            "training image (random squash vs aspect-kept crop, short side 96-176 px or native, JPEG q40-95, small "
            f"rotation, flip, +-5 % colour); head '{head_kind}' on the per-channel mean and standard deviation of "
            f"{', '.join(cut.low_taps + cut.top_taps)} plus avg-pool; then the top {cfg.fine_tune_blocks} MBConv "
            "blocks + 1x1 head conv + head fine-tuned (BatchNorm frozen) until validation stopped improving; "
            "the classifier is mixed with a vote of the nearest catalogue works"
        ),
        "evaluation_views": EVALUATION_VIEWS_TEXT,
        "data": {
            "catalogue": cfg.data_dir.name,
            "training_pack": cfg.extra_dir.name if cfg.extra_dir else None,
            "split": (f"that of {cfg.init_from}, " if cfg.init_from else "")
            + "near-duplicates (pHash) and same_as twins on one side; whole painters held out for *_unseen "
            "(ids in split.json)",
            "counts": {part: len(ids) for part, ids in split.parts.items()},
            "counts_per_style": {part: dict(Counter(by_id[i].style for i in ids)) for part, ids in split.parts.items()},
            "index_for_choices": f"{n_index} training catalogue images (no pack image, no held-out image)",
        },
        "hyper_parameters": hp,
        "selection": {
            "criterion": "validation: mean of top-1 (original) and top-1 (format-neutral)",
            "head_phase": {k: {kk: vv for kk, vv in v.items() if kk != "history"} for k, v in head_results.items()},
            "head_kind": head_kind,
            "fine_tune_epoch": fit.best_epoch,
            "fine_tune_epochs_run": fit.epochs_done,
            "stopped": fit.stopped,
            "fine_tune_val_acc": fit.best_val[0],
            "fine_tune_val_acc_neutral": fit.best_val[1],
            "embedding": chosen.embedding,
            "embedding_candidates_val": chosen.retrieval_val,
            "vote_grid_val_best": sorted(chosen.vote_grid, key=lambda g: -g["criterion"])[:10],
        },
        "vote": chosen.vote.as_dict(),
        "training_time_s": times,
        "history": {
            "head": head_results[head_kind]["history"] if head_kind in head_results else [],
            "head_candidates": {k: v.get("history", []) for k, v in head_results.items()},
            "fine-tune": fit.history,
        },
        **chosen.reports,
        "test_scored": cfg.score_test,
    }
