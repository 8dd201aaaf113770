"""Grad-CAM for the style model: which parts of the painting made the network see its top style.

One class, loaded lazily under a lock like every model here (recommender.ml.base.LazyModel). It is
built from a StyleModel's artefact directory, not from a fixed version, and finds what it needs in
the network by shape: the last layer with a 4-D output (the final convolutional feature map, 7×7
for a 224-pixel input) and the first model output (the class probabilities). So a retrained or
swapped style model gets heat maps without changes here.

Grad-CAM (Selvaraju et al., 2017): weight each feature channel by the mean gradient of the class
score over the map, sum, keep the positive part, normalise to 0..1. The score used is the log of
the class probability: its gradient is that of the class logit minus the probability-weighted
logits of the others, so it does not vanish when the model is very sure (as the probability's own
gradient does). One forward and one backward pass; TensorFlow is imported at load time only.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from recommender.ml.base import LazyModel
from recommender.ml.preprocess import IMAGE_SIZE

MODEL_FILE_NAME = "model.keras"


class StyleGradCam(LazyModel):
    def __init__(self, style_model: Any) -> None:
        super().__init__()
        self.style_model = style_model
        self.version = style_model.version
        self._cam: Any = None
        self.layer_name = ""

    def _load(self) -> None:
        import keras
        import tensorflow as tf

        path = self.style_model.artifact_dir / getattr(self.style_model, "model_file", MODEL_FILE_NAME)
        model = keras.models.load_model(path, compile=False)
        conv = next(
            (layer for layer in reversed(model.layers) if len(getattr(layer, "output", np.zeros(0)).shape) == 4),
            None,
        )
        if conv is None:
            raise ValueError(f"{path}: no convolutional feature map to explain")
        self.layer_name = conv.name
        outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
        grad_model = keras.Model(model.inputs, [conv.output, outputs[0]])

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32),
                tf.TensorSpec([], tf.int32),
            ],
            reduce_retracing=True,
        )
        def cam(images: Any, class_index: Any) -> Any:
            with tf.GradientTape() as tape:
                features, probs = grad_model(images, training=False)
                score = tf.math.log(probs[:, class_index] + 1e-7)
            grads = tape.gradient(score, features)
            weights = tf.reduce_mean(grads, axis=(1, 2))
            heat = tf.nn.relu(tf.einsum("nhwc,nc->nhw", features, weights))
            return heat / (tf.reduce_max(heat, axis=(1, 2), keepdims=True) + 1e-8)

        self._cam = cam

    def heatmap(self, pixels: np.ndarray, class_index: int) -> np.ndarray:
        """(224, 224, 3) model input → (h, w) float32 map in 0..1 (h = w = 7 for this network)."""
        self.load()
        batch = np.asarray(pixels, dtype=np.float32)[None]
        return self._cam(batch, np.int32(class_index)).numpy()[0].astype(np.float32)


_lock = threading.Lock()
_instances: dict[str, StyleGradCam] = {}


def gradcam_for(style_model: Any) -> StyleGradCam:
    """The process-wide Grad-CAM of this style model version (built once, loaded on first use)."""
    with _lock:
        cam = _instances.get(style_model.version)
        if cam is None or cam.style_model is not style_model:
            cam = _instances[style_model.version] = StyleGradCam(style_model)
        return cam


# --- Rendering ---------------------------------------------------------------------------------------

# A perceptually ordered dark-blue → red → yellow ramp (like "inferno"), without importing matplotlib.
_RAMP = np.array(
    [
        [0, 0, 4],
        [40, 11, 84],
        [101, 21, 110],
        [159, 42, 99],
        [212, 72, 66],
        [245, 125, 21],
        [250, 193, 39],
        [252, 255, 164],
    ],
    dtype=np.float32,
)
OVERLAY_MAX_SIDE = 768


def _colourise(heat: np.ndarray) -> np.ndarray:
    """(h, w) in 0..1 → (h, w, 3) uint8 through the ramp."""
    position = np.clip(heat, 0, 1) * (len(_RAMP) - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(_RAMP) - 1)
    t = (position - low)[..., None]
    return (_RAMP[low] * (1 - t) + _RAMP[high] * t).astype(np.uint8)


def overlay_image(image: Any, heat: np.ndarray) -> Any:
    """The painting with the heat map blended over the square the model saw (its centre crop).

    Outside that square the painting is dimmed: the model never looked there. Returns a PIL image
    at most OVERLAY_MAX_SIDE pixels a side.
    """
    from PIL import Image

    painting = image.convert("RGB")
    painting.thumbnail((OVERLAY_MAX_SIDE, OVERLAY_MAX_SIDE), Image.Resampling.LANCZOS)
    w, h = painting.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    heat_big = (
        np.asarray(
            Image.fromarray((np.clip(heat, 0, 1) * 255).astype(np.uint8)).resize(
                (side, side), Image.Resampling.BICUBIC
            ),
            dtype=np.float32,
        )
        / 255.0
    )
    base = np.asarray(painting, dtype=np.float32)
    out = base * 0.45  # dimmed outside the crop
    square = base[top : top + side, left : left + side]
    colour = _colourise(heat_big).astype(np.float32)
    alpha = (0.25 + 0.5 * heat_big)[..., None]  # the hotter, the more colour
    out[top : top + side, left : left + side] = square * (1 - alpha) + colour * alpha
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8))
