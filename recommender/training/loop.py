"""The style model's training run: format-invariant fine-tuning of EfficientNet-Lite0 on CPU.

1. Data: the catalogue plus the format-balancing pack, split so near-duplicates and ``same_as``
   twins stay on one side and whole painters are held out (``training.data``).
2. The backbone is cut at the input of its top ``fine_tune_blocks`` MBConv blocks. The frozen
   bottom runs once per training image and *view*; every view randomises aspect, resolution and
   JPEG quality (``training.augment.format_augment``), so the file format is no cue. Held-out
   images are cached in three renderings: as the file is, format-neutral and format-swapped.
3. Head phase: a softmax head on the frozen avg-pool features. Fine-tune phase: the top blocks,
   the 1x1 head conv and the head trained on the cached activations (a random view per image and
   epoch, random flip of the map), AdamW, cosine schedule, label smoothing, tempered class weights;
   BatchNorm stays in inference mode.
4. Epochs are chosen on validation only, by the mean of top-1 as the files are and top-1
   format-neutral. The test parts are scored once, after choosing, and only with ``score_test``.
5. The parts are re-assembled into one Keras model taking 224x224x3 RGB 0..255 and returning
   ``(probs, L2-normalised 1280-d embedding)``; the card records every number and knob.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.ml.preprocess import load_image, open_rgb, to_model_input
from recommender.ml.style_model import ARTIFACTS_ROOT
from recommender.training import metrics
from recommender.training.artefact import activate_artifact, write_artifact
from recommender.training.augment import NEUTRAL_SIDE, format_augment, format_neutral, format_swapped
from recommender.training.cache import DEFAULT_CACHE_DIR, cache_key, cut_activations, run_batched
from recommender.training.data import Painting, class_weights, make_split, perceptual_hashes, read_paintings
from recommender.training.network import (
    BACKBONE_LABEL,
    assemble_style_network,
    configure_tf_threads,
    default_backbone_path,
    make_head,
    split_backbone,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
EVAL_VIEWS = ("original", "format_neutral", "format_swapped")


@dataclass
class TrainConfig:
    """Every knob of one training run (stored in the model card; each has a command-line flag)."""

    data_dir: Path
    extra_dir: Path | None = None
    out_root: Path = ARTIFACTS_ROOT
    backbone_path: Path | None = None
    fine_tune_blocks: int = 8
    train_views: int = 4
    head_epochs: int = 15
    epochs: int = 5  # the CPU budget of the shipped run; validation was still rising (model card)
    batch: int = 64
    head_lr: float = 2e-3
    lr: float = 2e-4
    weight_decay: float = 0.1
    label_smoothing: float = 0.1
    dropout: float = 0.5
    class_weight_power: float = 0.5  # 0 = none, 1 = fully balanced
    seed: int = 42
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    unseen_painter_fraction: float = 0.05
    limit: int | None = None
    cache_dir: Path = DEFAULT_CACHE_DIR
    activate: bool = True
    version: str | None = None
    score_test: bool = False


def eval_view(p: Painting, view: int) -> np.ndarray:
    img = open_rgb(p.path)
    if view == 0:
        return to_model_input(img)
    if view == 1:
        return to_model_input(format_neutral(img))
    return to_model_input(format_swapped(img, p.fmt, p.id))


def _train_view(seed: int) -> Callable[[Painting, int], np.ndarray]:
    def view(p: Painting, v: int) -> np.ndarray:
        # A string seed is stable across processes (hash() of a tuple with str is not).
        return format_augment(open_rgb(p.path), random.Random(f"{seed}:{p.id}:{v}"))

    return view


def _subsample(paintings: list[Painting], limit: int | None, seed: int) -> list[Painting]:
    if limit is None or limit >= len(paintings):
        return paintings
    rng = random.Random(seed)
    return sorted(rng.sample(paintings, limit), key=lambda p: p.id)


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


def train_style_model(cfg: TrainConfig, progress: Progress = logger.info) -> Path:
    """Train, choose on validation, optionally score test once, write the artefact; returns its dir."""
    t_start = time.perf_counter()
    import keras
    import tensorflow as tf

    configure_tf_threads()
    keras.utils.set_random_seed(cfg.seed)
    cfg.backbone_path = cfg.backbone_path or default_backbone_path()
    started = datetime.now(UTC)
    version = cfg.version or f"style-effnetlite0-{started:%Y%m%d-%H%M}"

    paintings = _subsample(read_paintings(cfg.data_dir, cfg.extra_dir), cfg.limit, cfg.seed)
    by_id = {p.id: p for p in paintings}
    classes = sorted({p.style for p in paintings})
    cls_index = {c: i for i, c in enumerate(classes)}
    t0 = time.perf_counter()
    hashes = perceptual_hashes(paintings, cfg.cache_dir)
    split = make_split(
        paintings,
        hashes,
        seed=cfg.seed,
        val_fraction=cfg.val_fraction,
        test_fraction=cfg.test_fraction,
        unseen_painter_fraction=cfg.unseen_painter_fraction,
    )
    progress(
        f"{len(paintings)} images, {len(classes)} styles, {split.near_duplicate_pairs} near-duplicate pairs "
        f"({time.perf_counter() - t0:.0f} s); split " + ", ".join(f"{k}={len(v)}" for k, v in split.parts.items())
    )
    eval_parts = [
        part
        for part in ["val", "val_unseen"] + (["test", "test_unseen"] if cfg.score_test else [])
        if split.parts[part]  # a small --limit run may hold out no painter
    ]
    part_items = {k: [by_id[i] for i in split.parts[k]] for k in ["train", *eval_parts]}
    labels = {k: np.array([cls_index[p.style] for p in v], dtype=np.int64) for k, v in part_items.items()}

    backbone = keras.models.load_model(cfg.backbone_path, compile=False)
    bottom, top, cut = split_backbone(backbone, cfg.fine_tune_blocks)
    progress(
        f"cut at '{cut}' {tuple(bottom.output.shape[1:])}: top {cfg.fine_tune_blocks} blocks, "
        f"{top.count_params():,} params"
    )

    # 1. The frozen bottom, once per image and view.
    t0 = time.perf_counter()
    feats: dict[str, np.ndarray] = {}
    for part in ["train", *eval_parts]:
        items = part_items[part]
        train = part == "train"
        views = cfg.train_views if train else len(EVAL_VIEWS)
        key = cache_key(cfg.backbone_path, cut, [p.id for p in items], part, views, cfg.seed, NEUTRAL_SIDE, "v3")
        feats[part] = cut_activations(
            bottom,
            items,
            _train_view(cfg.seed) if train else eval_view,
            views=views,
            cache_file=cfg.cache_dir / f"{part}-{key}.npy",
            progress=progress,
            label=part,
        )
    t_cache = time.perf_counter() - t0
    progress(f"cut activations ready in {t_cache / 60:.1f} min")

    n_train = len(part_items["train"])
    y_tr, y_va = labels["train"], labels["val"]
    cw = class_weights(y_tr, len(classes), cfg.class_weight_power)
    onehot = np.eye(len(classes), dtype=np.float32)
    history: dict[str, list[dict[str, float]]] = {"head": [], "fine-tune": []}

    def criterion(p_orig: np.ndarray, p_neutral: np.ndarray) -> tuple[float, float, float]:
        a, b = float((p_orig.argmax(1) == y_va).mean()), float((p_neutral.argmax(1) == y_va).mean())
        return (a + b) / 2, a, b

    # 2. Head phase on frozen avg-pool features (every train view).
    t0 = time.perf_counter()
    top_fn = tf.function(lambda x: top(x, training=False))
    pooled_tr = np.stack([run_batched(top_fn, feats["train"][v]) for v in range(cfg.train_views)])
    pooled_va = [run_batched(top_fn, feats["val"][v]) for v in (0, 1)]
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
        score, a, b = criterion(*(probe(x, training=False).numpy() for x in pooled_va))
        history["head"].append({"epoch": ep + 1, "loss": h.history["loss"][0], "val_acc": a, "val_acc_neutral": b})
        if score > best[0]:
            best = (score, ep + 1, head.get_weights())
        if ep % 5 == 4 or ep == cfg.head_epochs - 1:
            progress(
                f"[head] epoch {ep + 1}/{cfg.head_epochs} loss {h.history['loss'][0]:.3f} val {a:.3f} neutral {b:.3f}"
            )
    head.set_weights(best[2])
    head_best = {"criterion": best[0], "epoch": best[1]}
    t_head = time.perf_counter() - t0
    progress(f"[head] best criterion {best[0]:.3f} at epoch {best[1]} ({t_head:.0f} s)")
    del pooled_tr, x_h

    # 3. Fine-tune the top blocks + head conv + head on the cached activations.
    t0 = time.perf_counter()
    for layer in top.layers:
        # BatchNorm stays in inference mode (small batches, pretrained statistics).
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    fin = keras.Input(top.input.shape[1:])
    x = keras.layers.RandomFlip("horizontal", seed=cfg.seed)(fin)
    x = keras.layers.Dropout(cfg.dropout)(top(x))
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

    @tf.function(input_signature=[tf.TensorSpec([None, *top.input.shape[1:]], tf.float32)])
    def eval_fn(x: Any) -> Any:
        pooled = top(x, training=False)
        return tf.concat([head(pooled, training=False), tf.math.l2_normalize(pooled, axis=-1)], axis=-1)

    k = len(classes)

    def evaluate(part: str, views: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
        outs = [run_batched(eval_fn, feats[part][v]) for v in views]
        return [o[:, :k] for o in outs], outs[0][:, k:]

    (p0, p1), _ = evaluate("val", (0, 1))
    best_state = (*criterion(p0, p1), 0, top.get_weights(), head.get_weights())
    progress(f"[fine-tune] start: val {best_state[1]:.3f} neutral {best_state[2]:.3f}; {steps_per_epoch} steps/epoch")
    rng = np.random.default_rng(cfg.seed)
    for ep in range(cfg.epochs):
        te = time.perf_counter()
        view = rng.integers(0, cfg.train_views, n_train)
        x_ep = np.asarray(feats["train"][view, np.arange(n_train)], dtype=np.float32)
        h = ft.fit(x_ep, onehot[y_tr], sample_weight=cw[y_tr], batch_size=cfg.batch, epochs=1, shuffle=True, verbose=0)
        del x_ep
        (p0, p1), _ = evaluate("val", (0, 1))
        score, a, b = criterion(p0, p1)
        history["fine-tune"].append(
            {
                "epoch": cfg.head_epochs + ep + 1,
                "loss": h.history["loss"][0],
                "acc": h.history["accuracy"][0],
                "val_acc": a,
                "val_acc_neutral": b,
            }
        )
        if score > best_state[0]:
            best_state = (score, a, b, ep + 1, top.get_weights(), head.get_weights())
        progress(
            f"[fine-tune] epoch {ep + 1}/{cfg.epochs} loss {h.history['loss'][0]:.3f} train-acc "
            f"{h.history['accuracy'][0]:.3f} val {a:.3f} neutral {b:.3f} ({time.perf_counter() - te:.0f} s)"
        )
    top.set_weights(best_state[4])
    head.set_weights(best_state[5])
    t_ft = time.perf_counter() - t0
    progress(
        f"[fine-tune] chose epoch {best_state[3]} (val {best_state[1]:.3f}, neutral {best_state[2]:.3f}), "
        f"{t_ft / 60:.1f} min"
    )

    # 4. Report: validation always; test once, only when asked, after everything was chosen.
    reports: dict[str, Any] = {}
    for part in eval_parts:
        probs, emb = evaluate(part, range(len(EVAL_VIEWS)))
        reports[part] = report(
            labels[part],
            dict(zip(EVAL_VIEWS, probs, strict=True)),
            emb,
            part_items[part],
            classes,
            full=part in ("val", "test"),
        )
        r = reports[part]
        progress(
            f"[{part}] top-1 {r['original']['top1']:.3f} top-3 {r['original']['top3']:.3f} "
            f"F1 {r['original']['macro_f1']:.3f} | "
            f"neutral {r['format_neutral']['top1']:.3f} (A->B {r['format_neutral']['format_a_into_b_styles']}) | "
            f"swap agreement {r['swap_agreement']:.3f} | probe {r['format_probe'].get('balanced_accuracy')}"
        )
        if part == "test":
            test_probs = probs[0]

    model = assemble_style_network(backbone, head)
    # The re-assembled network must reproduce the cached path on real images.
    sample = part_items["val"][:8]
    probs_full, _ = model(np.stack([load_image(p.path) for p in sample]), training=False)
    drift = float(np.abs(np.asarray(probs_full) - evaluate("val", (0,))[0][0][:8]).max())
    progress(f"assembled model vs cached path: max |dp| = {drift:.2e}")

    hp = {key: (str(v) if isinstance(v, Path) else v) for key, v in asdict(cfg).items()}
    for key in ("data_dir", "extra_dir", "out_root", "cache_dir", "backbone_path"):
        hp.pop(key)
    card = {
        "version": version,
        "date": started.isoformat(timespec="seconds"),
        "backbone": BACKBONE_LABEL,
        "backbone_file": Path(cfg.backbone_path).name,
        "input": "float32 RGB 0..255, (N, 224, 224, 3); shorter side resized to 224, center crop "
        "(recommender.ml.preprocess.load_image); the model rescales itself",
        "outputs": {"probs": f"(N, {k}) softmax", "embedding": "(N, 1280) L2-normalised avg_pool"},
        "classes": classes,
        "method": (
            f"ImageNet EfficientNet-Lite0 cut at '{cut}'; frozen bottom activations cached for "
            f"{cfg.train_views} format-randomising views per training image (random squash vs aspect-kept "
            "crop, short side 96-176 px or native, JPEG q40-95, small rotation, flip, +-5 % colour); head "
            f"trained on frozen avg-pool features, then the top {cfg.fine_tune_blocks} MBConv blocks + 1x1 "
            "head conv + softmax head fine-tuned (BatchNorm frozen)"
        ),
        "evaluation_views": {
            "original": "the file as it is, through the app's preprocessing",
            "format_neutral": f"centre square resized to {NEUTRAL_SIDE}x{NEUTRAL_SIDE} px first "
            "(one geometry, one resolution)",
            "format_swapped": "format A re-rendered as B (portrait 0.78 or landscape 1.28 aspect, longest side 224, "
            "JPEG q85) and B/R as A (224x224 squash, JPEG q85); swap_agreement = same top style as the original",
            "format_probe": "5-fold logistic regression on the embedding predicting format A vs B within "
            "Baroque and Impressionism; balanced accuracy, 0.5 = chance",
            "format_a_into_b_styles": "share of format-A paintings of A styles predicted as one of the "
            "five B-only styles",
        },
        "data": {
            "catalogue": cfg.data_dir.name,
            "training_pack": cfg.extra_dir.name if cfg.extra_dir else None,
            "split": "near-duplicates (pHash) and same_as twins on one side; whole painters held out for *_unseen "
            f"(seed {cfg.seed}; ids and held-out painters in split.json)",
            "counts": {part: len(ids) for part, ids in split.parts.items()},
            "counts_per_style": {part: dict(Counter(by_id[i].style for i in ids)) for part, ids in split.parts.items()},
        },
        "hyper_parameters": hp,
        "selection": {
            "criterion": "validation: mean of top-1 (original) and top-1 (format-neutral)",
            "head_phase": head_best,
            "fine_tune_epoch": best_state[3],
            "fine_tune_val_acc": best_state[1],
            "fine_tune_val_acc_neutral": best_state[2],
        },
        "training_time_s": {
            "cut_activations": round(t_cache, 1),
            "head": round(t_head, 1),
            "fine_tune": round(t_ft, 1),
            "total": round(time.perf_counter() - t_start, 1),
        },
        "history": history,
        **reports,
        "test_scored": cfg.score_test,
    }
    out_dir = write_artifact(
        cfg.out_root / version, model=model, classes=classes, split_json=split.to_json(), card=card
    )
    if cfg.score_test:
        metrics.write_plots(out_dir, labels["test"], test_probs, classes, history, version)
    if cfg.activate:
        activate_artifact(cfg.out_root, version)
    progress(f"wrote {out_dir} in {(time.perf_counter() - t_start) / 60:.1f} min")
    return out_dir
