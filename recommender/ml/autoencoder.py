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
names the active version. This module holds what inference needs (the embedder, and the resize and
pooling that training shares); the network and the training run are in
:mod:`recommender.training.autoencoder`. TensorFlow is imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from recommender.ml.base import KerasArtifact
from recommender.ml.preprocess import as_model_batch

AE_SIZE = 96  # images are downscaled from the 224 model input to this size
ARTIFACTS_ROOT = Path(__file__).resolve().parents[1] / "artifacts" / "autoencoder"
MODEL_FILE_NAME = "autoencoder.keras"
CARD_FILE_NAME = "card.json"
POOLINGS = ("flatten", "gap")


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
        batch = as_model_batch(images)
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
