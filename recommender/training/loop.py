"""The style model's training run: EfficientNet-Lite0 with a head on multi-layer style statistics.

1. Data: the catalogue plus the format-balancing pack, split so near-duplicates and ``same_as``
   twins stay on one side and whole painters are held out (``training.data``). ``init_from`` starts
   from an earlier artefact's weights and then reuses *its* split, so nothing it trained on is
   ever validated or tested on.
2. The backbone is cut at the input of its top ``fine_tune_blocks`` MBConv blocks. The frozen
   bottom runs once per training image and *view* (``training.augment.format_augment`` randomises
   aspect, resolution and JPEG quality, so the file format is no cue); it also gives the per-channel
   mean and standard deviation of three lower layers. Held-out images are cached as the file is,
   format-neutral and format-swapped.
3. Head phase: each head kind of ``head`` (``training.network.HEAD_KINDS``) is trained on frozen
   features (statistics of seven layers from 112x112 to 7x7, plus avg-pool), and validation picks
   one. Fine-tune phase (``training.finetune``): the top blocks and the head, checkpointed every
   epoch, resumable, stopped when validation has not improved for ``patience`` epochs.
4. Chosen on validation only, by the mean of top-1 as the files are and format-neutral: the head
   kind, the epoch, the search embedding (``pooled``/``hidden``/``blend``, by P@10) and the catalogue
   vote (k, temperature, weight; ``recommender.ml.vote``). The test parts are scored once, after
   every choice, and only with ``score_test``.
5. The parts are re-assembled into one Keras model taking 224x224x3 RGB 0..255 and returning
   ``(probs, L2-normalised 1280-d embedding)``; the card records every number and knob.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.evaluation import l2_normalise, load_split
from recommender.ml.preprocess import load_image
from recommender.ml.style_model import ARTIFACTS_ROOT, EMBEDDING_DIM, MODEL_FILE_NAME
from recommender.training import card as cards
from recommender.training import choose, metrics, neighbours
from recommender.training.artefact import activate_artifact, write_artifact
from recommender.training.augment import NEUTRAL_SIDE, eval_view, train_view
from recommender.training.cache import DEFAULT_CACHE_DIR, Features, cache_key, cut_activations, run_batched
from recommender.training.data import (
    Painting,
    Split,
    class_weights,
    make_split,
    perceptual_hashes,
    read_paintings,
)
from recommender.training.finetune import Checkpoint, EpochPlan, cosine_with_warmup, run_epochs
from recommender.training.head_phase import train_heads
from recommender.training.network import (
    HEAD_KINDS,
    assemble_stats_network,
    configure_tf_threads,
    copy_weights_by_name,
    default_backbone_path,
    make_stats_head,
    split_backbone_with_stats,
)

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
EVAL_VIEWS = cards.EVAL_VIEWS
CACHE_VERSION = "v4-stats"


@dataclass
class TrainConfig:
    """Every knob of one training run (stored in the model card; each has a command-line flag)."""

    data_dir: Path
    extra_dir: Path | None = None
    out_root: Path = ARTIFACTS_ROOT
    backbone_path: Path | None = None
    init_from: str = ""  # an artefact version under out_root: its weights and its split
    fine_tune_blocks: int = 8
    train_views: int = 4
    head: str = "auto"  # one of HEAD_KINDS, or "auto": train each on frozen features, keep the best
    hidden: int = 1280
    head_epochs: int = 15
    epochs: int = 30  # at most; the run stops at the plateau (patience)
    patience: int = 3
    batch: int = 64
    head_lr: float = 2e-3
    lr: float = 1e-4
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
    resume: bool = False


def _subsample(paintings: list[Painting], limit: int | None, seed: int) -> list[Painting]:
    if limit is None or limit >= len(paintings):
        return paintings
    rng = random.Random(seed)
    return sorted(rng.sample(paintings, limit), key=lambda p: p.id)


def _split(cfg: TrainConfig, paintings: list[Painting], progress: Progress) -> Split:
    if cfg.init_from:
        parts, source = load_split(cfg.out_root / cfg.init_from)
        known = {p.id for p in paintings}
        kept = {k: [i for i in v if i in known] for k, v in parts.items()}
        held = json.loads(Path(source).read_text(encoding="utf-8"))
        progress(
            f"split of {cfg.init_from} (its weights are the start): "
            + ", ".join(f"{k}={len(v)}" for k, v in kept.items())
        )
        return Split(kept, int(held.get("near_duplicate_pairs", 0)), held.get("held_out_painters", {}))
    t0 = time.perf_counter()
    split = make_split(
        paintings,
        perceptual_hashes(paintings, cfg.cache_dir),
        seed=cfg.seed,
        val_fraction=cfg.val_fraction,
        test_fraction=cfg.test_fraction,
        unseen_painter_fraction=cfg.unseen_painter_fraction,
    )
    progress(
        f"{split.near_duplicate_pairs} near-duplicate pairs ({time.perf_counter() - t0:.0f} s); split "
        + ", ".join(f"{k}={len(v)}" for k, v in split.parts.items())
    )
    return split


def _hyper_parameters(cfg: TrainConfig) -> dict[str, Any]:
    hp = {key: (str(v) if isinstance(v, Path) else v) for key, v in asdict(cfg).items()}
    for key in ("data_dir", "extra_dir", "out_root", "cache_dir", "backbone_path", "resume"):
        hp.pop(key)
    return hp


def train_style_model(cfg: TrainConfig, progress: Progress = logger.info) -> Path:
    """Train, choose on validation, optionally score test once, write the artefact; returns its dir."""
    t_start = time.perf_counter()
    import keras
    import tensorflow as tf

    configure_tf_threads()
    keras.utils.set_random_seed(cfg.seed)
    cfg.backbone_path = cfg.backbone_path or default_backbone_path()
    started = datetime.now(UTC)
    if cfg.resume and not cfg.version:
        raise ValueError("--resume needs the version of the run to resume (--model-version)")
    version = cfg.version or f"style-effnetlite0-{started:%Y%m%d-%H%M}"
    out_dir = cfg.out_root / version
    if (out_dir / MODEL_FILE_NAME).exists():
        raise FileExistsError(f"{out_dir} is a finished artefact; choose another --model-version")
    checkpoint = Checkpoint(out_dir / "checkpoint")
    hp = _hyper_parameters(cfg)
    checkpoint.check_resumable(hp, resume=cfg.resume)

    paintings = _subsample(read_paintings(cfg.data_dir, cfg.extra_dir), cfg.limit, cfg.seed)
    by_id = {p.id: p for p in paintings}
    classes = sorted({p.style for p in paintings})
    cls_index = {c: i for i, c in enumerate(classes)}
    progress(f"{len(paintings)} images, {len(classes)} styles")
    split = _split(cfg, paintings, progress)
    eval_parts = [
        part
        for part in ["val", "val_unseen"] + (["test", "test_unseen"] if cfg.score_test else [])
        if split.parts.get(part)  # a small --limit run may hold out no painter
    ]
    items = {k: [by_id[i] for i in split.parts[k]] for k in ["train", *eval_parts]}
    items["index"] = neighbours.index_items(items["train"], [p for k in eval_parts for p in items[k]])
    labels = {k: np.array([cls_index[p.style] for p in v], dtype=np.int64) for k, v in items.items()}

    backbone = keras.models.load_model(cfg.backbone_path, compile=False)
    if cfg.init_from:
        start = keras.models.load_model(cfg.out_root / cfg.init_from / MODEL_FILE_NAME, compile=False)
        progress(f"weights of {copy_weights_by_name(start, backbone)} layers from {cfg.init_from}")
        del start
    cut = split_backbone_with_stats(backbone, cfg.fine_tune_blocks)
    progress(
        f"cut at '{cut.cut}': top {cfg.fine_tune_blocks} blocks, {cut.top.count_params():,} params; "
        f"statistics of {', '.join(cut.low_taps + cut.top_taps)}; head inputs {sum(cut.group_dims)}-d"
    )

    # 1. The frozen bottom, once per image and view.
    t0 = time.perf_counter()
    feats = Features(cut)
    for part in ["train", *eval_parts]:
        train = part == "train"
        views = cfg.train_views if train else len(EVAL_VIEWS)
        key = cache_key(
            cfg.backbone_path,
            cut.cut,
            cut.low_taps,
            [p.id for p in items[part]],
            part,
            views,
            cfg.seed,
            NEUTRAL_SIDE,
            CACHE_VERSION,
        )
        feats.acts[part], feats.low[part] = cut_activations(
            cut.bottom,
            items[part],
            train_view(cfg.seed) if train else eval_view,
            views=views,
            cache_file=cfg.cache_dir / f"{part}-{key}.npy",
            progress=progress,
            label=part,
        )
    t_cache = time.perf_counter() - t0
    progress(f"cut activations ready in {t_cache / 60:.1f} min")

    n_train = len(items["train"])
    y_tr, y_va = labels["train"], labels["val"]
    cw = class_weights(y_tr, len(classes), cfg.class_weight_power)

    def criterion(p_orig: np.ndarray, p_neutral: np.ndarray) -> tuple[float, float, float]:
        a, b = float((p_orig.argmax(1) == y_va).mean()), float((p_neutral.argmax(1) == y_va).mean())
        return (a + b) / 2, a, b

    # 2. Head phase on frozen features (every train view), one head per candidate kind.
    t0 = time.perf_counter()
    meta = checkpoint.read_meta() if cfg.resume else {}
    kinds = list(HEAD_KINDS) if cfg.head == "auto" else [cfg.head]
    head_results: dict[str, dict[str, Any]] = meta.get("head_phase", {})
    chosen = meta.get("head_kind")

    def make_head(kind: str) -> Any:
        return make_stats_head(cut.group_dims, len(classes), kind, hidden=cfg.hidden, dropout=cfg.dropout)

    if chosen is None:
        top_fn = tf.function(lambda x: cut.top(x, training=False), reduce_retracing=True)

        def frozen(part: str, view: int) -> list[np.ndarray]:
            acts, *low = feats.inputs(part, view)
            return [*low, *run_batched(top_fn, acts)]

        x_tr = [
            np.concatenate(cols) for cols in zip(*(frozen("train", v) for v in range(cfg.train_views)), strict=True)
        ]
        x_va = [frozen("val", v) for v in (0, 1)]
        chosen, head_results = train_heads(
            kinds,
            make_head,
            x_tr,
            np.tile(y_tr, cfg.train_views),
            x_va,
            criterion,
            sample_weights=cw,
            epochs=cfg.head_epochs,
            lr=cfg.head_lr,
            weight_decay=cfg.weight_decay,
            label_smoothing=cfg.label_smoothing,
            checkpoint=checkpoint,
            progress=progress,
        )
        del x_tr, x_va
        meta = {"hyper_parameters": hp, "head_phase": head_results, "head_kind": chosen, "classes": classes}
        checkpoint.write_meta(meta)
    head = make_head(chosen)
    head.load_weights(checkpoint.weights_file("head"))
    t_head = time.perf_counter() - t0
    progress(f"[head] chose {chosen} ({t_head:.0f} s)")

    # 3. Fine-tune the top blocks + head on the cached activations.
    t0 = time.perf_counter()
    for layer in cut.top.layers:
        # BatchNorm stays in inference mode (small batches, pretrained statistics).
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization)
    acts_in = keras.Input(cut.top.input.shape[1:])
    low_in = [keras.Input((d,)) for d in cut.low_dims]
    # A mirrored painting has the same style; the statistics are flip-invariant, the map is not.
    flipped = keras.layers.RandomFlip("horizontal", seed=cfg.seed)(acts_in)
    ft = keras.Model([acts_in, *low_in], head([*low_in, *cut.top(flipped)])[0])
    steps_per_epoch = int(np.ceil(n_train / cfg.batch))
    ft.compile(
        optimizer=keras.optimizers.AdamW(
            cosine_with_warmup(cfg.lr, steps_per_epoch, cfg.epochs), weight_decay=cfg.weight_decay
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
    )

    @tf.function(reduce_retracing=True)
    def eval_fn(inputs: Any) -> Any:
        acts, *low = inputs
        *top_stats, pooled = cut.top(acts, training=False)
        probs, hidden = head([*low, *top_stats, pooled], training=False)
        return probs, pooled, hidden

    def evaluate(part: str, view: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        probs, pooled, hidden = run_batched(eval_fn, feats.inputs(part, view))
        embs = {"pooled": pooled}
        if chosen == "mlp-stats" and hidden.shape[1] == EMBEDDING_DIM:  # the catalogue's vector width
            embs["hidden"] = hidden
            embs["blend"] = neighbours.blend_embeddings(pooled, hidden)
        return probs, embs

    def validate() -> tuple[float, float, float]:
        return criterion(evaluate("val", 0)[0], evaluate("val", 1)[0])

    plan = EpochPlan(
        n_train=n_train,
        views=cfg.train_views,
        labels=y_tr,
        sample_weights=cw,
        n_classes=len(classes),
        inputs=lambda view, order: feats.inputs("train", view, order),
        evaluate=validate,
    )
    fit = run_epochs(
        ft,
        plan,
        checkpoint,
        meta,
        max_epochs=cfg.epochs,
        patience=cfg.patience,
        batch=cfg.batch,
        seed=cfg.seed,
        first_epoch_number=cfg.head_epochs + 1,
        progress=progress,
    )
    t_ft = time.perf_counter() - t0

    # 4. Choices with the catalogue index (validation), then reports (test once, only when asked).
    t0 = time.perf_counter()
    key = cache_key(
        cfg.backbone_path, cut.cut, cut.low_taps, [p.id for p in items["index"]], "index", cfg.seed, CACHE_VERSION
    )
    feats.acts["index"], feats.low["index"] = cut_activations(
        cut.bottom,
        items["index"],
        eval_view,
        views=1,
        cache_file=cfg.cache_dir / f"index-{key}.npy",
        progress=progress,
        label="index",
    )
    index_embs = evaluate("index", 0)[1]
    index = neighbours.Index(index_embs, labels["index"], [p.artist for p in items["index"]])
    outputs = {part: [evaluate(part, v) for v in range(len(EVAL_VIEWS))] for part in eval_parts}
    chosen_search = choose.choose_and_report(outputs, labels, items, index, classes, progress)
    embedding = chosen_search.embedding
    t_choose = time.perf_counter() - t0

    model = assemble_stats_network(backbone, head, cut, embedding)
    # The re-assembled network must reproduce the cached path on real images.
    sample = items["val"][:8]
    probs_full, emb_full = model(np.stack([load_image(p.path) for p in sample]), training=False)
    p_cached, e_cached = evaluate("val", 0)
    drift = float(np.abs(np.asarray(probs_full) - p_cached[:8]).max())
    drift_e = float(np.abs(np.asarray(emb_full) - l2_normalise(e_cached[embedding][:8])).max())
    progress(f"assembled model vs cached path: max |dp| = {drift:.2e}, max |de| = {drift_e:.2e}")

    card = cards.build_card(
        cfg=cfg,
        hp=hp,
        version=version,
        started=started,
        cut=cut,
        head_kind=chosen,
        head_results=head_results,
        fit=fit,
        split=split,
        by_id=by_id,
        n_index=len(items["index"]),
        chosen=chosen_search,
        times={
            "cut_activations": round(t_cache, 1),
            "head": round(t_head, 1),
            "fine_tune": round(t_ft, 1),
            "choices_and_reports": round(t_choose, 1),
            "total_this_process": round(time.perf_counter() - t_start, 1),
        },
        classes=classes,
    )
    split_json = Split(split.parts, split.near_duplicate_pairs, split.held_out_painters).to_json()
    write_artifact(out_dir, model=model, classes=classes, split_json=split_json, card=card)
    curves = {phase: card["history"][phase] for phase in ("head", "fine-tune")}  # the chosen head's and after
    if chosen_search.test_probs is not None:
        metrics.write_plots(out_dir, labels["test"], chosen_search.test_probs, classes, curves, version)
    if cfg.activate:
        activate_artifact(cfg.out_root, version)
    progress(f"wrote {out_dir} in {(time.perf_counter() - t_start) / 60:.1f} min")
    return out_dir
