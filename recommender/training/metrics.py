"""Scores of a style model: accuracy, F1, ROC AUC, the format checks, and the report plots."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Styles that the catalogue has only in format B (training.data): a model that reads the file
# format sends format-A paintings into these when their format cue is removed.
B_STYLES = ("Art Nouveau", "Expressionism", "Post-Impressionism", "Romanticism", "Symbolism")
# The format probe looks where both formats carry the same styles.
PROBE_STYLES = ("Baroque", "Impressionism")


def evaluate_probs(y: np.ndarray, probs: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """top-1, top-3, macro-F1, per-class P/R/F1, confusion matrix, one-vs-rest ROC AUC."""
    from sklearn.metrics import (
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
        roc_auc_score,
    )

    k = len(classes)
    pred = probs.argmax(1)
    top3 = np.argsort(-probs, axis=1)[:, :3]
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=range(k), zero_division=0)
    aucs: dict[str, float | None] = {}
    for i, c in enumerate(classes):
        pos = y == i
        aucs[c] = float(roc_auc_score(pos, probs[:, i])) if 0 < pos.sum() < len(y) else None
    valid = [a for a in aucs.values() if a is not None]
    return {
        "n": len(y),
        "top1": float((pred == y).mean()),
        "top3": float((top3 == y[:, None]).any(1).mean()),
        "macro_f1": float(f1_score(y, pred, average="macro", labels=range(k), zero_division=0)),
        "per_class": {
            c: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(s[i]),
                "roc_auc": aucs[c],
            }
            for i, c in enumerate(classes)
        },
        "roc_auc_macro": float(np.mean(valid)) if valid else None,
        "confusion_matrix": confusion_matrix(y, pred, labels=range(k)).tolist(),
    }


def write_plots(
    out_dir: Path,
    y: np.ndarray,
    probs: np.ndarray,
    classes: Sequence[str],
    history: dict[str, list[dict[str, float]]],
    title: str,
) -> None:
    """confusion_matrix.png, roc_curves.png and history.png (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix, roc_curve

    k = len(classes)
    cm = confusion_matrix(y, probs.argmax(1), labels=range(k))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(9, 8))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    ax.set_xticks(range(k), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(k), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"{title}: confusion matrix (test, row-normalised colour, counts)")
    fig.tight_layout()
    fig.savefig(out_dir / "confusion_matrix.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 7))
    for i, c in enumerate(classes):
        pos = y == i
        if 0 < pos.sum() < len(y):
            fpr, tpr, _ = roc_curve(pos, probs[:, i])
            ax.plot(fpr, tpr, lw=1.2, label=c)
    ax.plot([0, 1], [0, 1], "k--", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(f"{title}: one-vs-rest ROC (test)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out_dir / "roc_curves.png", dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for phase, rows in history.items():
        if not rows:
            continue
        ep = [r["epoch"] for r in rows]
        axes[0].plot(ep, [r["loss"] for r in rows], label=f"{phase} train")
        if "acc" in rows[0]:
            axes[1].plot(ep, [r["acc"] for r in rows], label=f"{phase} train (augmented views)")
        axes[1].plot(ep, [r["val_acc"] for r in rows], "--", label=f"{phase} val")
        axes[1].plot(ep, [r["val_acc_neutral"] for r in rows], ":", label=f"{phase} val, format-neutral")
    axes[0].set_title("loss (train: smoothed labels, weighted)")
    axes[1].set_title("top-1 accuracy (validation chooses the epoch)")
    for a in axes:
        a.set_xlabel("epoch")
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "history.png", dpi=110)
    plt.close(fig)


def format_flip_rate(y: np.ndarray, probs: np.ndarray, fmts: Sequence[str], classes: Sequence[str]) -> float | None:
    """Share of format-A paintings of the A styles that are predicted as one of the B styles."""
    b = np.array([c in B_STYLES for c in classes])
    mask = np.array([f == "A" for f in fmts]) & ~b[y]
    if not mask.any():
        return None
    return float(b[probs[mask].argmax(1)].mean())


def agreement(probs_a: np.ndarray, probs_b: np.ndarray) -> float:
    """Share of images whose top style is the same under two renderings."""
    return float((probs_a.argmax(1) == probs_b.argmax(1)).mean())


def format_probe(embeddings: np.ndarray, fmts: Sequence[str], styles: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Can a linear model read the file format (A vs B) off the embedding, within the styles that
    exist in both formats? 5-fold cross-validated balanced accuracy; 0.5 is chance."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    mask = np.array([s in PROBE_STYLES and f in ("A", "B") for s, f in zip(styles, fmts, strict=True)])
    x = embeddings[mask]
    y = np.array([f == "B" for f in np.asarray(fmts)[mask]], dtype=int)
    counts = np.bincount(y, minlength=2)
    if counts.min() < 5:
        return {"n": int(mask.sum()), "balanced_accuracy": None, "note": "too few images of one format"}
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced")
    scores = cross_val_score(clf, x, y, cv=folds, scoring="balanced_accuracy")
    return {
        "n": int(mask.sum()),
        "format_a": int(counts[0]),
        "format_b": int(counts[1]),
        "balanced_accuracy": float(scores.mean()),
        "folds": [round(float(s), 3) for s in scores],
    }


def summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The headline numbers of an ``evaluate_probs`` result."""
    return {k: metrics[k] for k in ("n", "top1", "top3", "macro_f1", "roc_auc_macro")}
