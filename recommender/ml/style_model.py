"""The art-style classifier: one class, lazy lock-guarded load, one forward pass for probs + embedding.

An artefact directory holds ``model.keras`` (input: float32 RGB 0..255, 224x224; outputs:
``probs`` (N, n_classes) and ``embedding`` (N, 1280), L2-normalised avg-pool features of the same
fine-tuned network), ``classes.json`` and ``model_card.json``. TensorFlow is imported inside
:meth:`StyleModel.load` only, so importing this module is cheap.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from recommender.ml import gradcam
from recommender.ml.base import CURRENT_FILE_NAME as CURRENT_FILE_NAME  # training writes CURRENT by this name
from recommender.ml.base import KerasArtifact
from recommender.ml.loader import iter_batches
from recommender.ml.preprocess import IMAGE_SIZE, ImageSource, as_model_batch, load_image

EMBEDDING_DIM = 1280
ARTIFACTS_ROOT = Path(__file__).resolve().parents[1] / "artifacts" / "style"
DEFAULT_ARTIFACT_DIR = ARTIFACTS_ROOT / "current"
MODEL_FILE_NAME = "model.keras"


class Analysis(NamedTuple):
    probs: np.ndarray  # (N, n_classes)
    embeddings: np.ndarray  # (N, 1280), L2-normalised
    heatmaps: np.ndarray | None  # (N, h, w) in 0..1, Grad-CAM of each image's top class


class StyleModel(KerasArtifact):
    """Style classifier + embedder loaded from one artefact directory."""

    model_file = MODEL_FILE_NAME
    card_file = "model_card.json"
    kind = "style model"

    def __init__(self, artifact_dir: str | Path) -> None:
        super().__init__(artifact_dir)
        self._classes: list[str] = []
        self._forward: Any = None  # tf.function: (N,224,224,3) float32 -> (probs, embeddings)
        self._analyse: Any = None  # tf.function: images -> (probs, embeddings, heat maps); None: no feature map
        self.feature_layer = ""  # the layer Grad-CAM explains (the last 4-D feature map)

    # -- loading -----------------------------------------------------------------------------
    def _prepare(self, model: Any) -> None:
        """Called once, under the lock, with the loaded Keras model."""
        import tensorflow as tf

        @tf.function(
            input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name="images")],
            reduce_retracing=True,
        )
        def forward(images: Any) -> tuple[Any, Any]:
            probs, embeddings = model(images, training=False)
            return probs, embeddings

        self._model = model
        self.classes  # noqa: B018 - read classes.json now: a broken artefact fails at load, not mid-request
        self._forward = forward
        self._analyse, self.feature_layer = gradcam.analysis_function(model)

    # -- metadata (version and card: KerasArtifact) ---------------------------------------------
    @property
    def classes(self) -> list[str]:
        """Class names, in the order of the probability columns."""
        if not self._classes:
            path = self.artifact_dir / "classes.json"
            self._classes = list(json.loads(path.read_text(encoding="utf-8")))
        return list(self._classes)

    @property
    def model_card(self) -> dict[str, Any]:
        """The artefact's model card (metrics, data counts, hyper-parameters); same as `card`."""
        return self.card

    # -- inference ---------------------------------------------------------------------------
    def predict_and_embed(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass over float32 (N,224,224,3) RGB 0..255 images.

        Returns ``(probs, embeddings)``: (N, n_classes) class probabilities and (N, 1280) float32
        L2-normalised embeddings.
        """
        self.load()
        batch = as_model_batch(images)
        if batch.shape[0] == 0:
            return (
                np.zeros((0, len(self._classes)), np.float32),
                np.zeros((0, EMBEDDING_DIM), np.float32),
            )
        probs, embeddings = self._forward(batch)
        return probs.numpy().astype(np.float32), embeddings.numpy().astype(np.float32)

    def analyse(self, images: np.ndarray) -> Analysis:
        """`predict_and_embed` plus the Grad-CAM heat map of each image's top style, in one pass.

        The heat maps come from the same forward pass (the gradient of the top class's log
        probability reaches the last feature map through the head only), so explaining costs a small
        fraction of the pass instead of a second one. `heatmaps` is None for a network without a 4-D
        feature map. Each image's results are those of a batch of its own (no batch-dependent layer
        at inference).
        """
        self.load()
        batch = as_model_batch(images)
        if self._analyse is None or batch.shape[0] == 0:
            probs, embeddings = self.predict_and_embed(batch)
            return Analysis(probs, embeddings, None)
        probs, embeddings, heat = self._analyse(batch)
        return Analysis(
            probs.numpy().astype(np.float32), embeddings.numpy().astype(np.float32), heat.numpy().astype(np.float32)
        )

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities, (N, n_classes)."""
        return self.predict_and_embed(images)[0]

    def embed(self, images: np.ndarray) -> np.ndarray:
        """L2-normalised 1280-d embeddings, (N, 1280) float32."""
        return self.predict_and_embed(images)[1]

    def predict_and_embed_files(
        self, sources: Sequence[ImageSource], batch_size: int = 32, workers: int = 2
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decode + preprocess + predict many images; JPEG decoding of the next batches runs in
        a thread pool while the current batch is on the model (the shared loader, PIL releases the GIL)."""
        self.load()
        if not sources:
            return self.predict_and_embed(np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32))
        outs = [
            self.predict_and_embed(batch)
            for _, batch in iter_batches(sources, load_image, batch_size=batch_size, workers=workers, prefetch=2)
        ]
        return np.concatenate([p for p, _ in outs]), np.concatenate([e for _, e in outs])

    def warmup(self) -> None:
        """Load and trace the inference functions so the first real request pays nothing extra."""
        self.analyse(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32))
        self.predict_and_embed(np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 3), np.float32))


resolve_artifact_dir = StyleModel.resolve  # a style artefact directory from a root, `current` or itself


# -- registry ----------------------------------------------------------------------------------
_registry_lock = threading.Lock()
_style_model: StyleModel | None = None


def _configured_artifact_dir() -> Path:
    """``settings.STYLE_MODEL_DIR`` when Django settings are available, else the committed one."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:  # training scripts may run without Django installed
        return DEFAULT_ARTIFACT_DIR
    try:
        configured = getattr(settings, "STYLE_MODEL_DIR", None)
    except ImproperlyConfigured:  # DJANGO_SETTINGS_MODULE unset: plain scripts
        configured = None
    return Path(configured) if configured else DEFAULT_ARTIFACT_DIR


def get_style_model() -> StyleModel:
    """The process-wide StyleModel (built from ``settings.STYLE_MODEL_DIR`` or the committed one).

    Not loaded yet: call ``.load()``/``.warmup()`` or just ``.predict*()``.
    """
    global _style_model
    with _registry_lock:
        if _style_model is None:
            _style_model = StyleModel(_configured_artifact_dir())
        return _style_model


def set_style_model(model: StyleModel | None) -> None:
    """Replace the process-wide model (tests inject a tiny artefact); ``None`` resets it."""
    global _style_model
    with _registry_lock:
        _style_model = model
