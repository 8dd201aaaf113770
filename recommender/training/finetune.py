"""The fine-tune phase's epochs: checkpointed every epoch, resumable, stopped at the plateau.

The schedule (cosine with warm-up over at most ``max_epochs``) is fixed when the run starts, so a
resumed run continues the same learning-rate curve. Each epoch draws its own view per image and
its own batch order from ``(seed, epoch)`` and re-seeds the network's random layers (dropout, flip)
the same way: epoch *e* does the same work whether the run was interrupted before it or not, which
is what lets ``--resume`` give the weights an uninterrupted run gives (tested).

A checkpoint is ``<artefact>/checkpoint/``: ``last.weights.h5`` and ``optimizer.npz`` (to go on),
``best.weights.h5`` (what validation chose so far) and ``state.json`` (written last, so it only
ever names complete files).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

Progress = Callable[[str], None]


@dataclass
class FitState:
    """Where the fine-tune phase stands; what ``state.json`` holds besides ``meta``."""

    epochs_done: int = 0
    best_score: float = -1.0
    best_epoch: int = 0
    best_val: tuple[float, float] = (0.0, 0.0)  # top-1 as the files are, top-1 format-neutral
    bad_epochs: int = 0
    stopped: str = ""  # "plateau" or "max_epochs" once finished
    history: list[dict[str, float]] = field(default_factory=list)


class Checkpoint:
    """The checkpoint folder of one run (see the module docstring)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_file = folder / "state.json"

    def check_resumable(self, hyper_parameters: dict[str, Any], *, resume: bool) -> None:
        """Refuse to start over an unfinished run, or to resume one with other flags (only the
        number of epochs, the patience and what happens after training may change)."""
        if self.exists() and not resume:
            raise FileExistsError(f"{self.folder} holds an unfinished run: pass --resume to go on with it")
        if not (resume and self.exists()):
            return
        free = ("epochs", "patience", "score_test", "activate")
        saved = self.read_meta().get("hyper_parameters", {})
        diff = {k: (saved.get(k), v) for k, v in hyper_parameters.items() if k not in free and saved.get(k) != v}
        if diff:
            raise ValueError(f"--resume with other flags than the checkpoint's (saved, now): {diff}")

    def exists(self) -> bool:
        return self.state_file.is_file()

    def read_meta(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text(encoding="utf-8")).get("meta", {}) if self.exists() else {}

    def write_meta(self, meta: dict[str, Any], state: FitState | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        body = {"meta": meta, "fit": asdict(state) if state else None}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_file)

    def read_state(self) -> FitState | None:
        if not self.exists():
            return None
        fit = json.loads(self.state_file.read_text(encoding="utf-8")).get("fit")
        if not fit:
            return None
        fit["best_val"] = tuple(fit["best_val"])
        return FitState(**fit)

    def weights_file(self, name: str) -> Path:
        return self.folder / f"{name}.weights.h5"

    def save_weights(self, model: Any, name: str) -> None:
        tmp = self.folder / f"{name}-tmp.weights.h5"  # Keras wants the .weights.h5 suffix
        model.save_weights(tmp)
        os.replace(tmp, self.weights_file(name))

    def save_optimizer(self, optimizer: Any) -> None:
        tmp = self.folder / "optimizer-tmp.npz"
        np.savez(tmp, *[np.asarray(v) for v in optimizer.variables])
        os.replace(tmp, self.folder / "optimizer.npz")

    def load_optimizer(self, optimizer: Any, variables: Sequence[Any]) -> None:
        optimizer.build(variables)
        with np.load(self.folder / "optimizer.npz") as saved:
            values = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        if len(values) != len(optimizer.variables):
            raise ValueError("the checkpoint's optimizer does not match this network (other flags?)")
        for var, value in zip(optimizer.variables, values, strict=True):
            var.assign(value)


def reseed_random_layers(model: Any, seed: int) -> int:
    """Set every SeedGenerator inside ``model`` (dropout, random flip) to a state made from
    ``seed``; returns how many were set. Keras does not save these states with the weights."""
    import keras

    count = 0
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for value in list(vars(layer).values()):
            if isinstance(value, keras.random.SeedGenerator):
                value.state.assign(np.array([seed, count], dtype=value.state.dtype))
                count += 1
    return count


def cosine_with_warmup(lr: float, steps_per_epoch: int, max_epochs: int) -> Any:
    import keras

    total = max(1, steps_per_epoch * max_epochs)
    warm = min(steps_per_epoch // 2, total // 5)
    return keras.optimizers.schedules.CosineDecay(lr * 0.1, total - warm, warmup_target=lr, warmup_steps=warm)


@dataclass
class EpochPlan:
    """What every epoch needs: ``inputs(view, order)`` builds the network's inputs for the images
    ``order`` (each in view ``view[i]``); ``evaluate()`` returns validation (score, top-1, neutral)."""

    n_train: int
    views: int
    labels: np.ndarray
    sample_weights: np.ndarray
    n_classes: int
    inputs: Callable[[np.ndarray, np.ndarray], list[np.ndarray]]
    evaluate: Callable[[], tuple[float, float, float]]


def run_epochs(
    model: Any,
    plan: EpochPlan,
    checkpoint: Checkpoint,
    meta: dict[str, Any],
    *,
    max_epochs: int,
    patience: int,
    batch: int,
    seed: int,
    first_epoch_number: int = 1,
    progress: Progress,
) -> FitState:
    """Train ``model`` (compiled) epoch by epoch from the checkpoint's state (or from scratch) until
    validation has not improved for ``patience`` epochs or ``max_epochs`` are done; leaves the best
    weights in ``model``. ``first_epoch_number`` only numbers the history (after the head phase)."""
    import keras
    from tqdm import tqdm

    state = checkpoint.read_state()
    model.optimizer.build(model.trainable_variables)  # so every weights file has the same layout
    if state is None:
        state = FitState()
        score, a, b = plan.evaluate()
        state.best_score, state.best_val = score, (a, b)
        checkpoint.save_weights(model, "best")
        progress(f"[fine-tune] start: val {a:.3f} neutral {b:.3f}")
    else:
        model.load_weights(checkpoint.weights_file("last"))
        checkpoint.load_optimizer(model.optimizer, model.trainable_variables)
        progress(
            f"[fine-tune] resumed after epoch {state.epochs_done} (best {state.best_score:.3f} at epoch "
            f"{state.best_epoch}, {state.bad_epochs} without improvement)"
        )
    onehot = np.eye(plan.n_classes, dtype=np.float32)
    steps = int(np.ceil(plan.n_train / batch))

    class Bar(keras.callbacks.Callback):
        def __init__(self, bar: Any) -> None:
            super().__init__()
            self.bar = bar

        def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
            self.bar.update(1)
            if logs and "loss" in logs:
                self.bar.set_postfix(loss=f"{float(logs['loss']):.3f}", refresh=False)

    while not state.stopped:
        epoch = state.epochs_done + 1
        if epoch > max_epochs or state.bad_epochs >= patience:
            state.stopped = "max_epochs" if epoch > max_epochs else "plateau"
            break
        t0 = time.perf_counter()
        epoch_seed = seed * 1000 + epoch
        keras.utils.set_random_seed(epoch_seed)
        reseed_random_layers(model, epoch_seed)
        rng = np.random.default_rng([seed, epoch])
        order = rng.permutation(plan.n_train)
        view = rng.integers(0, plan.views, plan.n_train)
        x = plan.inputs(view, order)
        y = plan.labels[order]
        with tqdm(total=steps, desc=f"epoch {epoch}/{max_epochs}", mininterval=30, leave=False) as bar:
            h = model.fit(
                x,
                onehot[y],
                sample_weight=plan.sample_weights[y],
                batch_size=batch,
                epochs=1,
                shuffle=False,
                verbose=0,
                callbacks=[Bar(bar)],
            )
        del x
        score, a, b = plan.evaluate()
        loss, acc = h.history["loss"][0], h.history.get("accuracy", [float("nan")])[0]
        state.history.append(
            {
                "epoch": first_epoch_number + epoch - 1,
                "loss": loss,
                "acc": acc,
                "val_acc": a,
                "val_acc_neutral": b,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
        if score > state.best_score:
            state.best_score, state.best_epoch, state.best_val, state.bad_epochs = score, epoch, (a, b), 0
            checkpoint.save_weights(model, "best")
        else:
            state.bad_epochs += 1
        state.epochs_done = epoch
        checkpoint.save_weights(model, "last")
        checkpoint.save_optimizer(model.optimizer)
        checkpoint.write_meta(meta, state)
        progress(
            f"[fine-tune] epoch {epoch}/{max_epochs} {time.perf_counter() - t0:.0f} s loss {loss:.3f} "
            f"train-acc {acc:.3f} val {a:.3f} neutral {b:.3f}"
            + (" (best)" if state.best_epoch == epoch else f" ({state.bad_epochs} without improvement)")
        )
    checkpoint.write_meta(meta, state)
    model.load_weights(checkpoint.weights_file("best"))
    progress(
        f"[fine-tune] stopped ({state.stopped}) after {state.epochs_done} epochs; best epoch {state.best_epoch} "
        f"(val {state.best_val[0]:.3f}, neutral {state.best_val[1]:.3f})"
    )
    return state
