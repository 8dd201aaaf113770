"""Seed method for visual similarity: a small convolutional denoising autoencoder.

Before the fine-tuned style model existed, similarity came from an autoencoder trained on the
catalogue itself: no labels, no ImageNet. It is kept as a baseline for ``bench/evaluate.py``.

Network (input RGB in [0, 1], ``AE_SIZE`` x ``AE_SIZE``)::

    encoder  conv3x3/2 32 -> conv3x3/2 64 -> conv3x3/2 128 -> conv3x3/2 128 -> conv1x1 64 (6x6x64)
    decoder  conv-transpose3x3/2 128 -> 64 -> 32 -> 16 -> conv3x3 3, sigmoid
    training  Gaussian noise (sigma ``noise``) on the input, MSE against the clean input

The embedding is the flattened bottleneck (6 x 6 x 64 = 2304-d, keeps the layout) or its global
average (64-d, layout-free), L2-normalised; which one is decided on the validation part and stored
in ``card.json`` (``pooling``).

An artefact directory ``recommender/artifacts/autoencoder/<version>/`` holds ``autoencoder.keras``
(the clean encoder + decoder, no optimizer state, ~2 MB) and ``card.json``; ``<root>/CURRENT``
names the active version. Training uses only the TRAIN part of the style model's split, so the
test part stays unseen by every model compared. TensorFlow is imported lazily.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from recommender.ml.base import CURRENT_FILE_NAME as CURRENT_FILE_NAME  # training writes CURRENT by this name
from recommender.ml.base import KerasArtifact
from recommender.ml.preprocess import IMAGE_SIZE, load_batch

logger = logging.getLogger(__name__)

AE_SIZE = 96  # images are downscaled from the 224 model input to this size
ARTIFACTS_ROOT = Path(__file__).resolve().parents[1] / "artifacts" / "autoencoder"
MODEL_FILE_NAME = "autoencoder.keras"
CARD_FILE_NAME = "card.json"
POOLINGS = ("flatten", "gap")

Progress = Callable[[str], None]


def downscale(images: np.ndarray, size: int = AE_SIZE) -> np.ndarray:
    """(N, 224, 224, 3) float RGB 0..255 -> (N, size, size, 3) float32 in [0, 1] (area resize).

    The one resize used both to build the training cache and at embedding time.
    """
    import tensorflow as tf

    batch = np.asarray(images, dtype=np.float32)
    if batch.ndim != 4 or batch.shape[-1] != 3:
        raise ValueError(f"expected (N, H, W, 3), got {batch.shape}")
    small = tf.image.resize(batch, (size, size), method="area").numpy()
    return np.clip(small / 255.0, 0.0, 1.0).astype(np.float32)


def pool_codes(codes: np.ndarray, pooling: str) -> np.ndarray:
    """(N, h, w, c) bottleneck activations -> (N, d) L2-normalised embeddings."""
    if pooling == "flatten":
        flat = codes.reshape(len(codes), int(np.prod(codes.shape[1:])))
    elif pooling == "gap":
        flat = codes.mean(axis=(1, 2))
    else:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    flat = flat.astype(np.float32)
    return flat / np.maximum(np.linalg.norm(flat, axis=1, keepdims=True), 1e-12)


class AutoencoderEmbedder(KerasArtifact):
    """Embeds images with the encoder half of a trained autoencoder artefact."""

    model_file = MODEL_FILE_NAME
    card_file = CARD_FILE_NAME
    kind = "autoencoder"

    def __init__(self, artifact_dir: str | Path = ARTIFACTS_ROOT) -> None:
        super().__init__(artifact_dir)
        self._encode: Any = None  # tf.function: (N, AE_SIZE, AE_SIZE, 3) -> (N, h, w, c)

    def _prepare(self, model: Any) -> None:
        """Called once, under the lock, with the loaded Keras model."""
        import tensorflow as tf

        encoder = model.get_layer("encoder")
        size = int(encoder.input.shape[1])

        @tf.function(
            input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name="images")],
            reduce_retracing=True,
        )
        def encode(images: Any) -> Any:
            return encoder(images, training=False)

        self._size = size
        self._code_shape = tuple(int(d) for d in encoder.output.shape[1:])
        self._encode = encode

    @property
    def pooling(self) -> str:
        return str(self.card.get("pooling", "flatten"))

    def codes(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Raw bottleneck activations of float32 (N, 224, 224, 3) RGB 0..255 images."""
        self.load()
        batch = np.asarray(images, dtype=np.float32)
        if batch.ndim == 3:
            batch = batch[None]
        if batch.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3):
            raise ValueError(f"expected (N, {IMAGE_SIZE}, {IMAGE_SIZE}, 3), got {batch.shape}")
        outs = [
            self._encode(downscale(batch[i : i + batch_size], self._size)).numpy()
            for i in range(0, len(batch), batch_size)
        ]
        if not outs:
            return np.zeros((0, *self._code_shape), np.float32)
        return np.concatenate(outs)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """(N, d) float32 L2-normalised bottleneck features (pooling from the card)."""
        return pool_codes(self.codes(images), self.pooling)


resolve_artifact_dir = AutoencoderEmbedder.resolve  # an autoencoder artefact directory from its root or itself


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
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
    """Decode images (224 center crop, as every model sees them) and downscale to [0, 1] size x size."""
    out = np.zeros((len(paths), size, size, 3), np.float32)
    chunks = [paths[i : i + batch] for i in range(0, len(paths), batch)]
    ahead = workers + 1  # bounded prefetch: only a few decoded 224 px batches in memory at once
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque(pool.submit(load_batch, c) for c in chunks[:ahead])
        for i in range(len(chunks)):
            pixels = pending.popleft().result()
            if i + ahead < len(chunks):
                pending.append(pool.submit(load_batch, chunks[i + ahead]))
            out[i * batch : i * batch + len(pixels)] = downscale(pixels, size)
    return out


def _val_precision(train_emb: np.ndarray, train_y: np.ndarray, val_emb: np.ndarray, val_y: np.ndarray) -> float:
    """Same-style precision@10 of val queries against the train part (model selection only)."""
    sims = val_emb @ train_emb.T
    top = np.argpartition(-sims, 10, axis=1)[:, :10]
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
    from recommender.training.data import read_paintings as read_catalogue
    from recommender.training.network import configure_tf_threads

    configure_tf_threads()
    keras.utils.set_random_seed(seed)
    started = datetime.now(UTC)
    version = version or f"ae-conv{AE_SIZE}-{started:%Y%m%d-%H%M}"

    paintings = {p.id: p for p in read_catalogue(data_dir)}
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

    def codes(x: np.ndarray) -> np.ndarray:
        return np.concatenate([encode(x[i : i + 256]).numpy() for i in range(0, len(x), 256)])

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
    style = {i: paintings[i].style for i in paintings}
    y_tr = np.array([style[i] for i in train_ids])
    y_va = np.array([style[i] for i in val_ids])
    c_tr, c_va = codes(x_train), codes(x_val)
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
        (Path(out_dir) / CURRENT_FILE_NAME).write_text(version + "\n", encoding="utf-8")
    size_mb = sum(f.stat().st_size for f in target.iterdir()) / 2**20
    progress(f"wrote {target} ({size_mb:.1f} MB) in {(time.perf_counter() - t_start) / 60:.1f} min")
    return target
