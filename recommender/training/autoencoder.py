"""Training of the denoising-autoencoder baseline (the network and the run that writes its artefact).

Inference (the embedder, the resize and pooling it shares with training) lives in
:mod:`recommender.ml.autoencoder`; this module is imported by ``manage.py train_autoencoder`` only.
Training uses only the TRAIN part of the style model's split (val for the loss curve and the pooling
choice), so the test part stays unseen by every model ``bench/evaluate.py`` compares.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.ml.autoencoder import (
    AE_SIZE,
    ARTIFACTS_ROOT,
    CARD_FILE_NAME,
    MODEL_FILE_NAME,
    POOLINGS,
    downscale,
    pool_codes,
)
from recommender.ml.loader import iter_batches
from recommender.ml.preprocess import load_image
from recommender.training.artefact import activate_artifact
from recommender.training.cache import run_batched

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]


def build_autoencoder(size: int = AE_SIZE, bottleneck: int = 64) -> Any:
    """The clean autoencoder: ``encoder`` and ``decoder`` sub-models chained, input in [0, 1]."""
    import keras
    from keras import layers

    enc_in = keras.Input((size, size, 3), name="image")
    x = enc_in
    for filters in (32, 64, 128, 128):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    code = layers.Conv2D(bottleneck, 1, name="bottleneck")(x)  # linear: the embedding
    encoder = keras.Model(enc_in, code, name="encoder")

    dec_in = keras.Input(code.shape[1:], name="code")
    y = dec_in
    for filters in (128, 64, 32, 16):
        y = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(y)
    out = layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="reconstruction")(y)
    decoder = keras.Model(dec_in, out, name="decoder")

    image = keras.Input((size, size, 3), name="image")
    return keras.Model(image, decoder(encoder(image)), name="denoising_autoencoder")


def decode_small(paths: Sequence[Path], size: int = AE_SIZE, batch: int = 64, workers: int = 2) -> np.ndarray:
    """Decode images (224 center crop, as every model sees them) and downscale to [0, 1] size x size.

    Only the small result is kept whole; the 224 px batches go through the shared prefetching loader.
    """
    out = np.zeros((len(paths), size, size, 3), np.float32)
    for start, pixels in iter_batches(paths, load_image, batch_size=batch, workers=workers):
        out[start : start + len(pixels)] = downscale(pixels, size)
    return out


def _val_precision(train_emb: np.ndarray, train_y: np.ndarray, val_emb: np.ndarray, val_y: np.ndarray) -> float:
    """Same-style precision@10 of val queries against the train part (model selection only)."""
    sims = val_emb @ train_emb.T
    k = min(10, train_emb.shape[0] - 1)  # a smoke run may hold fewer than 11 train images
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    return float((train_y[top] == val_y[:, None]).mean())


def train_autoencoder(
    data_dir: Path,
    out_dir: Path = ARTIFACTS_ROOT,
    *,
    epochs: int = 12,
    limit: int | None = None,
    batch: int = 64,
    lr: float = 2e-3,
    noise: float = 0.1,
    max_minutes: float | None = 9.0,
    seed: int = 42,
    version: str | None = None,
    activate: bool = True,
    progress: Progress = logger.info,
) -> Path:
    """Train on the style split's TRAIN part; write ``<out_dir>/<version>/``; return that directory.

    ``limit`` caps the training images (smoke runs). ``max_minutes`` stops before an epoch that
    would end past the budget (decoding included), so a run on a shared machine stays bounded.
    """
    t_start = time.perf_counter()
    import keras
    import tensorflow as tf

    from recommender.evaluation import load_split
    from recommender.training.data import read_paintings
    from recommender.training.network import configure_tf_threads

    configure_tf_threads()
    keras.utils.set_random_seed(seed)
    started = datetime.now(UTC)
    version = version or f"ae-conv{AE_SIZE}-{started:%Y%m%d-%H%M}"

    paintings = {p.id: p for p in read_paintings(data_dir)}
    split, split_source = load_split()
    train_ids = [i for i in split["train"] if i in paintings]
    val_ids = [i for i in split["val"] if i in paintings]
    if limit is not None:
        rng = np.random.default_rng(seed)
        train_ids = sorted(rng.choice(train_ids, size=min(limit, len(train_ids)), replace=False).tolist())
        val_ids = val_ids[: max(64, limit // 8)]
    progress(f"split from {split_source}: training on {len(train_ids)} train images, {len(val_ids)} val")

    t0 = time.perf_counter()
    x_train = decode_small([paintings[i].path for i in train_ids])
    x_val = decode_small([paintings[i].path for i in val_ids])
    t_decode = time.perf_counter() - t0
    progress(f"decoded + downscaled to {AE_SIZE}px in {t_decode:.0f} s ({x_train.nbytes / 2**20:.0f} MiB in RAM)")

    model = build_autoencoder()
    encoder = model.get_layer("encoder")
    image = keras.Input((AE_SIZE, AE_SIZE, 3))
    noisy = keras.layers.GaussianNoise(noise, seed=seed)(image)  # active only while training
    trainer = keras.Model(image, model(noisy))
    steps = int(np.ceil(len(x_train) / batch))
    trainer.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(lr, steps * epochs, alpha=0.05)),
        loss="mse",
    )
    encode = tf.function(lambda x: encoder(x, training=False))

    history: list[dict[str, float]] = []
    epoch_s: list[float] = []
    for ep in range(epochs):
        if max_minutes is not None and epoch_s and time.perf_counter() - t_start + max(epoch_s) > max_minutes * 60:
            progress(f"time budget {max_minutes} min: stopping after {ep} epochs")
            break
        te = time.perf_counter()
        h = trainer.fit(x_train, x_train, batch_size=batch, epochs=1, shuffle=True, verbose=0)
        val_loss = float(trainer.evaluate(x_val, x_val, batch_size=256, verbose=0))
        epoch_s.append(time.perf_counter() - te)
        history.append({"epoch": ep + 1, "loss": float(h.history["loss"][0]), "val_loss": val_loss})
        progress(f"epoch {ep + 1}/{epochs} mse {history[-1]['loss']:.5f} val-mse {val_loss:.5f} ({epoch_s[-1]:.0f} s)")
    t_train = time.perf_counter() - t0 - t_decode

    # Pooling of the bottleneck chosen on val (same-style P@10 of val against train), not on test.
    y_tr = np.array([paintings[i].style for i in train_ids])
    y_va = np.array([paintings[i].style for i in val_ids])
    c_tr, c_va = run_batched(encode, x_train), run_batched(encode, x_val)
    selection = {p: _val_precision(pool_codes(c_tr, p), y_tr, pool_codes(c_va, p), y_va) for p in POOLINGS}
    pooling = max(selection, key=selection.__getitem__)
    progress("val same-style P@10 by pooling: " + ", ".join(f"{p} {v:.3f}" for p, v in selection.items()))

    target = Path(out_dir) / version
    target.mkdir(parents=True, exist_ok=False)
    model.save(target / MODEL_FILE_NAME)  # uncompiled: no optimizer state in the artefact
    card = {
        "version": version,
        "date": started.isoformat(timespec="seconds"),
        "method": (
            f"convolutional denoising autoencoder, input {AE_SIZE}x{AE_SIZE} RGB in [0,1] (224 center crop, "
            f"area-downscaled), Gaussian input noise sigma {noise}, MSE; embedding = L2-normalised "
            f"{pooling} of the {tuple(int(d) for d in encoder.output.shape[1:])} bottleneck"
        ),
        "input_size": AE_SIZE,
        "pooling": pooling,
        "embedding_dim": int(pool_codes(c_va[:1], pooling).shape[1]),
        "params": int(model.count_params()),
        "data": {
            "split": split_source,
            "train_images": len(train_ids),
            "train_ids_sha1": hashlib.sha1(",".join(train_ids).encode()).hexdigest(),
            "val_images": len(val_ids),
            "note": "TRAIN part of the style model's split only; val for the loss curve and pooling choice",
        },
        "hyper_parameters": {
            "epochs_requested": epochs,
            "epochs": len(history),
            "batch": batch,
            "lr": lr,
            "lr_schedule": "cosine decay to 5%",
            "noise_sigma": noise,
            "limit": limit,
            "seed": seed,
            "max_minutes": max_minutes,
        },
        "history": history,
        "selection": {"criterion": "val same-style precision@10 against train", "precision_at_10": selection},
        "training_time_s": {
            "decode": round(t_decode, 1),
            "train": round(t_train, 1),
            "total": round(time.perf_counter() - t_start, 1),
        },
    }
    (target / CARD_FILE_NAME).write_text(json.dumps(card, indent=1), encoding="utf-8")
    if activate:
        activate_artifact(Path(out_dir), version)
    size_mb = sum(f.stat().st_size for f in target.iterdir()) / 2**20
    progress(f"wrote {target} ({size_mb:.1f} MB) in {(time.perf_counter() - t_start) / 60:.1f} min")
    return target
