"""The head phase: each candidate head trained on frozen features, validation keeps the best.

Cheap (the network below the head runs once per image and view), so it is where head kinds are
compared before the expensive fine-tune phase commits to one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from recommender.training.cache import run_batched
from recommender.training.finetune import Checkpoint

Criterion = Callable[[np.ndarray, np.ndarray], tuple[float, float, float]]


def train_heads(
    kinds: Sequence[str],
    make_head: Callable[[str], Any],
    x_train: list[np.ndarray],
    y_train: np.ndarray,
    x_val: Sequence[list[np.ndarray]],
    criterion: Criterion,
    *,
    sample_weights: np.ndarray,
    epochs: int,
    lr: float,
    weight_decay: float,
    label_smoothing: float,
    checkpoint: Checkpoint,
    progress: Callable[[str], None],
) -> tuple[str, dict[str, dict[str, Any]]]:
    """Train a head of each kind for ``epochs`` on frozen features, keep each one's best epoch by
    ``criterion`` on the two validation views ``x_val``; the best head's weights go to the checkpoint
    as ``head``. Returns (chosen kind, per-kind results with the learning curve)."""
    import keras

    results: dict[str, dict[str, Any]] = {}
    best_kind = (-1.0, "")
    for kind in kinds:
        head = make_head(kind)
        onehot = np.eye(head.outputs[0].shape[-1], dtype=np.float32)
        probe = keras.Model(head.inputs, head.outputs[0])
        steps = int(np.ceil(len(y_train) / 256)) * epochs
        probe.compile(
            optimizer=keras.optimizers.AdamW(
                keras.optimizers.schedules.CosineDecay(lr, steps), weight_decay=weight_decay
            ),
            loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        )
        best = (-1.0, 0, 0.0, 0.0, head.get_weights())
        curve = []
        for ep in range(epochs):
            h = probe.fit(
                x_train,
                onehot[y_train],
                sample_weight=sample_weights[y_train],
                batch_size=256,
                epochs=1,
                shuffle=True,
                verbose=0,
            )
            score, a, b = criterion(*(run_batched(probe, x) for x in x_val))
            curve.append({"epoch": ep + 1, "loss": h.history["loss"][0], "val_acc": a, "val_acc_neutral": b})
            if score > best[0]:
                best = (score, ep + 1, a, b, head.get_weights())
        results[kind] = {
            "criterion": best[0],
            "epoch": best[1],
            "val_acc": best[2],
            "val_acc_neutral": best[3],
            "history": curve,
        }
        progress(f"[head {kind}] best val {best[2]:.3f} neutral {best[3]:.3f} at epoch {best[1]}/{epochs}")
        if best[0] > best_kind[0]:
            best_kind = (best[0], kind)
            head.set_weights(best[4])
            checkpoint.folder.mkdir(parents=True, exist_ok=True)
            checkpoint.save_weights(head, "head")
    return best_kind[1], results
