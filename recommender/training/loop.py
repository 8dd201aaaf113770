"""Training pipeline of the art-style classifier (plain functions; Django is not needed).

Strategy (2 CPU cores, about an hour): the EfficientNet-Lite0 ImageNet backbone is cut at the
input of its top ``fine_tune_blocks`` MBConv blocks. The frozen bottom runs ONCE per image and
view; its activations are cached as float16 under /tmp (never in the repo). Training then runs
only on the cached tensors:

1. head phase: the top blocks are frozen, their avg-pool features are computed once and a new
   softmax head is trained on them (cheap, many epochs);
2. fine-tune phase: the top K blocks + head conv + the new head are trained together on the
   cached activations (random view per image and epoch, random horizontal flip of the map),
   with AdamW, cosine LR, label smoothing, dropout and tempered class weights. BatchNorm layers
   stay in inference mode.

Epochs/models are chosen on the validation part only; the test part is evaluated once at the end.
The frozen bottom, the trained top and the head are re-assembled into one Keras model taking
224x224x3 RGB 0..255 and returning ``(probs, l2-normalised 1280-d embedding)``.

Run: ``python -m recommender.training --data ../shared/data/catalogue`` or the Django command
``manage.py train_style_model``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageEnhance

from recommender.ml.preprocess import IMAGE_SIZE, load_image, open_rgb, to_model_input
from recommender.ml.style_model import ARTIFACTS_ROOT, CURRENT_FILE_NAME, MODEL_FILE_NAME

logger = logging.getLogger(__name__)

REPO_DIR = Path(__file__).resolve().parents[1]
BACKBONE_NAME = "efficientnet_lite0_imagenet.keras"
BACKBONE_LABEL = "EfficientNet-Lite0 (ImageNet-1k, Keras 3 conversion)"
DEFAULT_CACHE_DIR = Path(os.environ.get("STYLE_CACHE_DIR", "/tmp/artsite_style_cache"))
N_BLOCKS = 16  # MBConv blocks of EfficientNet-Lite0

Progress = Callable[[str], None]


@dataclass
class TrainConfig:
    """Every knob of one training run (stored in the model card)."""

    data_dir: Path
    out_root: Path = ARTIFACTS_ROOT
    backbone_path: Path | None = None
    fine_tune_blocks: int = 5
    train_views: int = 3  # view 0 = center crop, the others random-resized crops
    head_epochs: int = 40
    epochs: int = 12
    batch: int = 64
    head_lr: float = 2e-3
    lr: float = 3e-4  # chosen on validation: 0.720 vs 0.704 with 5e-4, dropout 0.3, wd 0.05
    weight_decay: float = 0.1
    label_smoothing: float = 0.1
    dropout: float = 0.5
    class_weight_power: float = 0.5  # 0 = none, 1 = fully balanced
    seed: int = 42
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    limit: int | None = None
    cache_dir: Path = DEFAULT_CACHE_DIR
    activate: bool = True
    version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Painting:
    id: str
    path: Path
    style: str
    artist: str
    source: str


def read_catalogue(data_dir: Path) -> list[Painting]:
    """Rows of ``catalogue.csv`` whose image file exists."""
    rows: list[Painting] = []
    with open(data_dir / "catalogue.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            path = data_dir / r["file"]
            if path.is_file():
                rows.append(Painting(r["id"], path, r["style"], r["artist"], r["source"]))
            else:
                logger.warning("missing image %s", path)
    return rows


def make_split(
    paintings: Sequence[Painting],
    *,
    seed: int,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    limit: int | None = None,
) -> dict[str, list[str]]:
    """Stratified (by style) train/val/test split of painting ids, reproducible from ``seed``."""
    from sklearn.model_selection import train_test_split

    ids = [p.id for p in paintings]
    styles = [p.style for p in paintings]
    if limit is not None and limit < len(ids):
        ids, _, styles, _ = train_test_split(ids, styles, train_size=limit, stratify=styles, random_state=seed)
    holdout = val_fraction + test_fraction
    train, rest, _, rest_styles = train_test_split(ids, styles, test_size=holdout, stratify=styles, random_state=seed)
    val, test = train_test_split(rest, test_size=test_fraction / holdout, stratify=rest_styles, random_state=seed)
    return {"train": sorted(train), "val": sorted(val), "test": sorted(test)}


def class_weights(labels: np.ndarray, n_classes: int, power: float) -> np.ndarray:
    """Per-class weights (count/mean)^-power, normalised so the average sample weight is 1."""
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    w = (counts.mean() / np.maximum(counts, 1)) ** power
    w /= (w[labels]).mean()
    return w.astype(np.float32)


def augmented_view(path: Path, rng: random.Random) -> np.ndarray:
    """Random-resized crop (35-100 % area, 3/4-4/3 aspect), horizontal flip, light colour jitter."""
    img = open_rgb(path)
    w, h = img.size
    for _ in range(10):
        area = w * h * rng.uniform(0.35, 1.0)
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        cw, ch = round((area * aspect) ** 0.5), round((area / aspect) ** 0.5)
        if cw <= w and ch <= h:
            left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
            img = img.crop((left, top, left + cw, top + ch))
            break
    img = img.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
    if rng.random() < 0.5:
        img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    # Style depends on palette and brushwork: keep the jitter light.
    img = ImageEnhance.Brightness(img).enhance(rng.uniform(0.9, 1.1))
    img = ImageEnhance.Contrast(img).enhance(rng.uniform(0.9, 1.1))
    img = ImageEnhance.Color(img).enhance(rng.uniform(0.9, 1.1))
    return to_model_input(img)


# ---------------------------------------------------------------------------------------------
# Network pieces
# ---------------------------------------------------------------------------------------------
def default_backbone_path() -> Path:
    """The shared EfficientNet-Lite0 file (``STYLE_BACKBONE_PATH`` overrides)."""
    env = os.environ.get("STYLE_BACKBONE_PATH")
    candidates = [Path(env)] if env else []
    candidates += [
        REPO_DIR / "shared" / "models" / "keras" / BACKBONE_NAME,
        REPO_DIR.parent / "shared" / "models" / "keras" / BACKBONE_NAME,
    ]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"backbone {BACKBONE_NAME} not found in {candidates}")


def configure_tf_threads() -> None:
    """Use every core for one op; few inter-op threads (the graphs are mostly sequential)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count() or 2)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:  # already initialised in this process
        pass


def block_input_layer(backbone: Any, block_index: int) -> str:
    """Name of the layer whose output feeds MBConv block ``block_index`` (0-based, 0..15)."""
    names = {ly.name for ly in backbone.layers}
    first = f"block{block_index}_expand_conv"
    if first not in names:
        first = f"block{block_index}_dwconv"
    node = backbone.get_layer(first)._inbound_nodes[0]
    return node.input_tensors[0]._keras_history.operation.name


def split_backbone(backbone: Any, fine_tune_blocks: int) -> tuple[Any, Any, str]:
    """(bottom, top, cut_layer): bottom = input..cut, top = cut..avg_pool (layers shared)."""
    import keras

    cut = block_input_layer(backbone, N_BLOCKS - fine_tune_blocks)
    cut_tensor = backbone.get_layer(cut).output
    bottom = keras.Model(backbone.input, cut_tensor, name="bottom")
    top_in = keras.Input(cut_tensor.shape[1:], name="cut_features")
    top_out = _reapply(backbone, cut, top_in, "avg_pool")
    top = keras.Model(top_in, top_out, name="top")
    return bottom, top, cut


def _reapply(backbone: Any, cut: str, new_input: Any, until: str) -> Any:
    """Call the backbone's layers after ``cut`` on ``new_input`` (same layer objects, so weights
    are shared) up to and including ``until``."""
    tensors: dict[int, Any] = {id(backbone.get_layer(cut).output): new_input}
    names = [ly.name for ly in backbone.layers]
    for layer in backbone.layers[names.index(cut) + 1 :]:
        node = layer._inbound_nodes[0]
        args = [tensors[id(t)] for t in node.input_tensors]
        out = layer(args if len(args) > 1 else args[0])
        tensors[id(layer.output)] = out
        if layer.name == until:
            return out
    raise ValueError(f"layer {until} not found after {cut}")


def assemble_style_network(backbone: Any, head: Any) -> Any:
    """The shipped model: image (RGB 0..255) -> (probs, L2-normalised avg-pool embedding)."""
    import keras

    pooled = backbone.get_layer("avg_pool").output
    probs = head(pooled)
    emb = keras.layers.UnitNormalization(axis=-1, name="embedding")(pooled)
    probs = keras.layers.Identity(name="probs")(probs)
    return keras.Model(backbone.input, [probs, emb], name="style_effnetlite0")


def make_head(n_classes: int, name: str = "style_head") -> Any:
    import keras

    return keras.layers.Dense(n_classes, activation="softmax", name=name)


# ---------------------------------------------------------------------------------------------
# Feature cache
# ---------------------------------------------------------------------------------------------
def cache_key(cfg: TrainConfig, cut: str, ids: Sequence[str], part: str, views: int) -> str:
    h = hashlib.sha1()
    h.update(f"{cfg.backbone_path}|{cut}|{part}|{views}|{cfg.seed}|v2".encode())
    h.update(",".join(ids).encode())
    return h.hexdigest()[:16]


def compute_cut_features(
    bottom: Any,
    paths: Sequence[Path],
    *,
    views: int,
    seed: int,
    batch: int,
    cache_file: Path,
    progress: Progress,
    label: str,
) -> np.ndarray:
    """(views, N, h, w, c) float16 activations at the cut; cached under /tmp as .npy."""
    import tensorflow as tf

    if cache_file.is_file():
        progress(f"[cache] {label}: reusing {cache_file}")
        return np.load(cache_file, mmap_mode="r")
    shape = tuple(int(d) for d in bottom.output.shape[1:])
    out = np.zeros((views, len(paths), *shape), dtype=np.float16)
    fwd = tf.function(
        lambda x: bottom(x, training=False),
        input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32)],
    )

    def decode(job: tuple[int, int]) -> np.ndarray:
        view, start = job
        chunk = paths[start : start + batch]
        if view == 0:
            return np.stack([load_image(p) for p in chunk])
        rng = random.Random(hash((seed, view, start)))
        return np.stack([augmented_view(p, rng) for p in chunk])

    jobs = [(v, s) for v in range(views) for s in range(0, len(paths), batch)]
    t0 = time.perf_counter()
    done = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(decode, j) for j in jobs[:3]]
        for i, (view, start) in enumerate(jobs):
            x = futures[i].result()
            futures[i] = None  # type: ignore[call-overload]  # free the decoded batch
            if i + 3 < len(jobs):
                futures.append(pool.submit(decode, jobs[i + 3]))
            out[view, start : start + len(x)] = fwd(x).numpy().astype(np.float16)
            done += len(x)
            if i % 20 == 0 or i == len(jobs) - 1:
                rate = done / (time.perf_counter() - t0)
                left = (views * len(paths) - done) / max(rate, 1e-9)
                progress(
                    f"[cache] {label}: {done}/{views * len(paths)} views {rate:.1f} img/s, ~{left / 60:.1f} min left"
                )
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp.npy")
    np.save(tmp, out)
    tmp.rename(cache_file)
    return out


def run_batched(fn: Any, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """Apply a tf.function to a (possibly memory-mapped float16) array in batches."""
    outs = [fn(np.asarray(x[i : i + batch], dtype=np.float32)).numpy() for i in range(0, len(x), batch)]
    return np.concatenate(outs)


# ---------------------------------------------------------------------------------------------
# Metrics and report
# ---------------------------------------------------------------------------------------------
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
        axes[0].plot(ep, [r["val_loss"] for r in rows], "--", label=f"{phase} val")
        axes[1].plot(ep, [r["acc"] for r in rows], label=f"{phase} train")
        axes[1].plot(ep, [r["val_acc"] for r in rows], "--", label=f"{phase} val")
    axes[0].set_title("loss (train: smoothed labels, weighted)")
    axes[1].set_title("top-1 accuracy")
    for a in axes:
        a.set_xlabel("epoch")
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "history.png", dpi=110)
    plt.close(fig)


def activate_artifact(out_root: Path, version: str) -> None:
    """Point ``<out_root>/CURRENT`` at ``version`` (a text file, more portable than a symlink)."""
    (out_root / CURRENT_FILE_NAME).write_text(version + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
def _cross_entropy(y: np.ndarray, probs: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-7, 1)).mean())


def train_style_model(cfg: TrainConfig, progress: Progress = logger.info) -> Path:
    """Train, select on val, evaluate once on test, write the artefact; returns its directory."""
    t_start = time.perf_counter()
    import keras
    import tensorflow as tf

    configure_tf_threads()
    keras.utils.set_random_seed(cfg.seed)
    cfg.backbone_path = cfg.backbone_path or default_backbone_path()
    started = datetime.now(UTC)
    version = cfg.version or f"style-effnetlite0-{started:%Y%m%d-%H%M}"

    paintings = read_catalogue(cfg.data_dir)
    by_id = {p.id: p for p in paintings}
    classes = sorted({p.style for p in paintings})
    cls_index = {c: i for i, c in enumerate(classes)}
    split = make_split(
        paintings,
        seed=cfg.seed,
        val_fraction=cfg.val_fraction,
        test_fraction=cfg.test_fraction,
        limit=cfg.limit,
    )
    labels = {part: np.array([cls_index[by_id[i].style] for i in ids]) for part, ids in split.items()}
    counts = {part: dict(Counter(by_id[i].style for i in ids)) for part, ids in split.items()}
    progress(
        f"{len(paintings)} paintings, {len(classes)} styles; split "
        + ", ".join(f"{k}={len(v)}" for k, v in split.items())
    )

    backbone = keras.models.load_model(cfg.backbone_path, compile=False)
    bottom, top, cut = split_backbone(backbone, cfg.fine_tune_blocks)
    progress(
        f"cut at '{cut}' {tuple(bottom.output.shape[1:])}: top {cfg.fine_tune_blocks} blocks + "
        f"head conv = {top.count_params():,} params"
    )

    # 1. Frozen bottom, run once per image and view.
    t0 = time.perf_counter()
    feats: dict[str, np.ndarray] = {}
    for part in ("train", "val", "test"):
        ids = split[part]
        views = cfg.train_views if part == "train" else 1
        key = cache_key(cfg, cut, ids, part, views)
        feats[part] = compute_cut_features(
            bottom,
            [by_id[i].path for i in ids],
            views=views,
            seed=cfg.seed,
            batch=32,
            cache_file=cfg.cache_dir / f"{part}-{key}.npy",
            progress=progress,
            label=part,
        )
    t_cache = time.perf_counter() - t0
    progress(f"cut features ready in {t_cache / 60:.1f} min")

    n_train = len(split["train"])
    y_tr, y_va = labels["train"], labels["val"]
    cw = class_weights(y_tr, len(classes), cfg.class_weight_power)
    onehot = np.eye(len(classes), dtype=np.float32)
    history: dict[str, list[dict[str, float]]] = {"head": [], "fine-tune": []}

    # 2. Head phase on frozen avg-pool features (all train views).
    t0 = time.perf_counter()
    top_fn = tf.function(lambda x: top(x, training=False))
    pooled_tr = np.stack([run_batched(top_fn, feats["train"][v]) for v in range(cfg.train_views)])
    pooled_va = run_batched(top_fn, feats["val"][0])
    progress(f"frozen avg-pool features in {time.perf_counter() - t0:.0f} s")
    head = make_head(len(classes))
    pin = keras.Input((pooled_tr.shape[-1],))
    probe = keras.Model(pin, head(keras.layers.Dropout(cfg.dropout)(pin)))
    x_h = pooled_tr.reshape(-1, pooled_tr.shape[-1])
    y_h = np.tile(y_tr, cfg.train_views)
    steps = int(np.ceil(len(x_h) / 256)) * cfg.head_epochs
    probe.compile(
        optimizer=keras.optimizers.AdamW(
            keras.optimizers.schedules.CosineDecay(cfg.head_lr, steps), weight_decay=cfg.weight_decay
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
    )
    best = (-1.0, 0, head.get_weights())
    for ep in range(cfg.head_epochs):
        h = probe.fit(x_h, onehot[y_h], sample_weight=cw[y_h], batch_size=256, epochs=1, shuffle=True, verbose=0)
        p_va = probe(pooled_va, training=False).numpy()
        acc_tr = float((probe(x_h[::7], training=False).numpy().argmax(1) == y_h[::7]).mean())
        row = {
            "epoch": ep + 1,
            "loss": h.history["loss"][0],
            "acc": acc_tr,
            "val_loss": _cross_entropy(y_va, p_va),
            "val_acc": float((p_va.argmax(1) == y_va).mean()),
        }
        history["head"].append(row)
        if row["val_acc"] > best[0]:
            best = (row["val_acc"], ep + 1, head.get_weights())
        if ep % 5 == 4 or ep == cfg.head_epochs - 1:
            progress(
                f"[head] epoch {ep + 1}/{cfg.head_epochs} loss {row['loss']:.3f} "
                f"train-acc {acc_tr:.3f} val-acc {row['val_acc']:.3f}"
            )
    head.set_weights(best[2])
    head_best = {"val_acc": best[0], "epoch": best[1]}
    t_head = time.perf_counter() - t0
    progress(f"[head] best val-acc {best[0]:.3f} at epoch {best[1]} ({t_head:.0f} s)")

    # 3. Fine-tune the top blocks + head conv + head on the cached activations.
    t0 = time.perf_counter()
    for layer in top.layers:
        # BatchNorm stays in inference mode (small batches, pretrained statistics).
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    fin = keras.Input(top.input.shape[1:])
    x = keras.layers.RandomFlip("horizontal", seed=cfg.seed)(fin)
    x = top(x)
    x = keras.layers.Dropout(cfg.dropout)(x)
    ft = keras.Model(fin, head(x))
    steps_per_epoch = int(np.ceil(n_train / cfg.batch))
    total = max(1, steps_per_epoch * cfg.epochs)
    warm = min(steps_per_epoch // 2, total // 5)
    ft.compile(
        optimizer=keras.optimizers.AdamW(
            keras.optimizers.schedules.CosineDecay(cfg.lr * 0.1, total - warm, warmup_target=cfg.lr, warmup_steps=warm),
            weight_decay=cfg.weight_decay,
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )
    eval_fn = tf.function(
        lambda x: head(top(x, training=False), training=False),
        input_signature=[tf.TensorSpec([None, *top.input.shape[1:]], tf.float32)],
    )
    p_va = run_batched(eval_fn, feats["val"][0])
    best_acc = float((p_va.argmax(1) == y_va).mean())
    best_state = (best_acc, 0, top.get_weights(), head.get_weights())
    progress(f"[fine-tune] start val-acc {best_acc:.3f}; {steps_per_epoch} steps/epoch")
    rng = np.random.default_rng(cfg.seed)
    for ep in range(cfg.epochs):
        te = time.perf_counter()
        view = rng.integers(0, cfg.train_views, n_train)
        x_ep = np.asarray(feats["train"][view, np.arange(n_train)], dtype=np.float32)
        h = ft.fit(x_ep, onehot[y_tr], sample_weight=cw[y_tr], batch_size=cfg.batch, epochs=1, shuffle=True, verbose=0)
        del x_ep
        p_va = run_batched(eval_fn, feats["val"][0])
        row = {
            "epoch": cfg.head_epochs + ep + 1,
            "loss": h.history["loss"][0],
            "acc": h.history["accuracy"][0],
            "val_loss": _cross_entropy(y_va, p_va),
            "val_acc": float((p_va.argmax(1) == y_va).mean()),
        }
        history["fine-tune"].append(row)
        if row["val_acc"] > best_state[0]:
            best_state = (row["val_acc"], ep + 1, top.get_weights(), head.get_weights())
        progress(
            f"[fine-tune] epoch {ep + 1}/{cfg.epochs} loss {row['loss']:.3f} train-acc "
            f"{row['acc']:.3f} val-loss {row['val_loss']:.3f} val-acc {row['val_acc']:.3f} "
            f"({time.perf_counter() - te:.0f} s)"
        )
    top.set_weights(best_state[2])
    head.set_weights(best_state[3])
    t_ft = time.perf_counter() - t0
    progress(f"[fine-tune] chose epoch {best_state[1]} (val-acc {best_state[0]:.3f}), {t_ft / 60:.1f} min")

    # 4. Assemble, evaluate val (for the card) and test ONCE, write the artefact.
    model = assemble_style_network(backbone, head)
    p_va = run_batched(eval_fn, feats["val"][0])
    p_te = run_batched(eval_fn, feats["test"][0])
    val_metrics = evaluate_probs(y_va, p_va, classes)
    test_metrics = evaluate_probs(labels["test"], p_te, classes)
    # Check that the re-assembled network reproduces the cached path on real test images.
    sample = [by_id[i].path for i in split["test"][:8]]
    probs_full, _ = model(np.stack([load_image(p) for p in sample]), training=False)
    drift = float(np.abs(np.asarray(probs_full) - p_te[:8]).max())
    progress(f"assembled model vs cached path: max |dp| = {drift:.2e}")

    out_dir = cfg.out_root / version
    out_dir.mkdir(parents=True, exist_ok=False)
    model.save(out_dir / MODEL_FILE_NAME)
    (out_dir / "classes.json").write_text(json.dumps(classes, indent=1), encoding="utf-8")
    (out_dir / "split.json").write_text(json.dumps({"seed": cfg.seed, "stratify": "style", **split}), encoding="utf-8")
    hp = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()}
    hp.pop("data_dir")
    hp.pop("out_root")
    hp.pop("cache_dir")
    card = {
        "version": version,
        "date": started.isoformat(timespec="seconds"),
        "backbone": BACKBONE_LABEL,
        "backbone_file": Path(cfg.backbone_path).name,
        "input": "float32 RGB 0..255, (N, 224, 224, 3); shorter side resized to 224, center crop "
        "(recommender.ml.preprocess.load_image); the model rescales itself",
        "outputs": {"probs": f"(N, {len(classes)}) softmax", "embedding": "(N, 1280) L2-normalised avg_pool"},
        "classes": classes,
        "method": (
            f"ImageNet EfficientNet-Lite0 cut at '{cut}'; frozen bottom activations cached "
            f"({cfg.train_views} train views: center + random-resized crops/flip/colour jitter); "
            f"head trained on frozen avg-pool features, then top {cfg.fine_tune_blocks} MBConv "
            "blocks + 1x1 head conv + softmax head fine-tuned (BatchNorm frozen)"
        ),
        "data": {
            "catalogue": str(cfg.data_dir.name),
            "split": f"stratified by style, seed {cfg.seed}, 80/10/10 (ids in split.json)",
            "counts": {part: len(ids) for part, ids in split.items()},
            "counts_per_style": counts,
        },
        "hyper_parameters": hp,
        "selection": {
            "criterion": "validation top-1",
            "head_phase": head_best,
            "fine_tune_epoch": best_state[1],
            "fine_tune_val_acc": best_state[0],
        },
        "training_time_s": {
            "cut_features": round(t_cache, 1),
            "head": round(t_head, 1),
            "fine_tune": round(t_ft, 1),
            "total": round(time.perf_counter() - t_start, 1),
        },
        "history": history,
        "val": val_metrics,
        "test": test_metrics,
        "caveats": [
            "Five styles (Art Nouveau, Romanticism, Post-Impressionism, Expressionism, Symbolism) "
            "come almost only from one source (eliogrande, 224 px, letterbox cropped) while the "
            "other eight come from jalpv1 (224x224, aspect ratio lost): the model may partly "
            "learn source artefacts (aspect, compression) instead of style.",
            "The split is by painting, stratified by style only: the same painter, and "
            "near-duplicates that escaped the pHash filter, can appear in train and test, "
            "which flatters the test numbers compared with unseen painters.",
        ],
    }
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    write_plots(out_dir, labels["test"], p_te, classes, history, version)
    if cfg.activate:
        activate_artifact(cfg.out_root, version)
    progress(
        f"test top-1 {test_metrics['top1']:.3f} top-3 {test_metrics['top3']:.3f} macro-F1 "
        f"{test_metrics['macro_f1']:.3f} AUC {test_metrics['roc_auc_macro']:.3f} | val top-1 "
        f"{val_metrics['top1']:.3f}; wrote {out_dir} in {(time.perf_counter() - t_start) / 60:.1f} min"
    )
    return out_dir


def build_tiny_artifact(out_dir: str | Path, classes: Sequence[str]) -> Path:
    """A valid artefact for fast tests, in seconds, without training.

    Real EfficientNet-Lite0 backbone + a randomly initialised softmax head over ``classes``; same
    files and same :class:`~recommender.ml.style_model.StyleModel` code path as a trained one.
    """
    import keras

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    backbone = keras.models.load_model(default_backbone_path(), compile=False)
    model = assemble_style_network(backbone, make_head(len(classes)))
    model.save(out_dir / MODEL_FILE_NAME)
    (out_dir / "classes.json").write_text(json.dumps(list(classes)), encoding="utf-8")
    (out_dir / "split.json").write_text(json.dumps({"train": [], "val": [], "test": []}))
    card = {
        "version": f"tiny-{out_dir.name}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backbone": BACKBONE_LABEL,
        "classes": list(classes),
        "note": "untrained head (random); for tests only",
    }
    (out_dir / "model_card.json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return out_dir


def _parse_args(argv: Sequence[str] | None = None) -> TrainConfig:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ARTIFACTS_ROOT)
    ap.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    ap.add_argument("--head-epochs", type=int, default=TrainConfig.head_epochs)
    ap.add_argument("--fine-tune-blocks", type=int, default=TrainConfig.fine_tune_blocks)
    ap.add_argument("--views", type=int, default=TrainConfig.train_views)
    ap.add_argument("--batch", type=int, default=TrainConfig.batch)
    ap.add_argument("--lr", type=float, default=TrainConfig.lr)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--version", default=None)
    ap.add_argument("--no-activate", action="store_true")
    a = ap.parse_args(argv)
    return TrainConfig(
        data_dir=a.data,
        out_root=a.out,
        epochs=a.epochs,
        head_epochs=a.head_epochs,
        fine_tune_blocks=a.fine_tune_blocks,
        train_views=a.views,
        batch=a.batch,
        lr=a.lr,
        limit=a.limit,
        version=a.version,
        activate=not a.no_activate,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    train_style_model(_parse_args())
