"""Grad-CAM for the style model: which parts of the painting made the network see its top style.

Built into the style model's own analysis pass (StyleModel.analyse → `analysis_function`), not a
second model: the network's last layer with a 4-D output (the final feature map, 7×7 for a
224-pixel input) is found by shape, so a retrained or swapped style model gets heat maps without
changes here.

Grad-CAM (Selvaraju et al., 2017): weight each feature channel by the mean gradient of the class
score over the map, sum, keep the positive part, normalise to 0..1. The score is the log of the top
class's probability: its gradient is that of the class logit minus the probability-weighted logits
of the others, so it does not vanish when the model is very sure (as the probability's own gradient
does). The gradient of the batch's summed scores gives each image its own gradient (images do not
interact at inference), and it only runs back through the head (pooling and the dense layer), so
the heat maps cost a small part of the forward pass. TensorFlow is imported when a model loads.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recommender.ml.preprocess import IMAGE_SIZE


def analysis_function(model: Any) -> tuple[Any, str]:
    """A tf.function images → (probs, embeddings, heat maps of each image's top class), and the name
    of the explained layer; (None, "") for a network without a 4-D feature map."""
    import keras
    import tensorflow as tf

    def four_d(layer: Any) -> bool:
        out = getattr(layer, "output", None)  # a sub-model (the head) has a list of outputs
        return out is not None and not isinstance(out, (list, tuple)) and len(out.shape) == 4

    conv = next((layer for layer in reversed(model.layers) if four_d(layer)), None)
    if conv is None:
        return None, ""
    outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
    explained = keras.Model(model.inputs, [conv.output, *outputs[:2]])

    @tf.function(
        input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name="images")],
        reduce_retracing=True,
    )
    def analyse(images: Any) -> tuple[Any, Any, Any]:
        with tf.GradientTape() as tape:
            features, probs, embeddings = explained(images, training=False)
            top = tf.argmax(probs, axis=1, output_type=tf.int32)
            score = tf.math.log(tf.gather(probs, top, axis=1, batch_dims=1) + 1e-7)
        grads = tape.gradient(score, features)  # d(sum of scores): each image's own gradient
        weights = tf.reduce_mean(grads, axis=(1, 2))
        heat = tf.nn.relu(tf.einsum("nhwc,nc->nhw", features, weights))
        heat = heat / (tf.reduce_max(heat, axis=(1, 2), keepdims=True) + 1e-8)
        return probs, embeddings, heat

    return analyse, conv.name


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
# The overlay is drawn at the size the stored JPEG decodes to at a DCT scale (1/1, 1/2, 1/4, 1/8):
# resampling a 1,000 px painting down to a fixed 768 px cost 5-13 ms of the worker's CPU per upload
# (more than the rest of the drawing and its JPEG encoding together), so any decoded size between
# OVERLAY_MIN_SIDE and OVERLAY_MAX_SIDE is kept as it is; only the rare image that fits no scale
# in that range (a longest side of 1,025-1,151 px) is resampled, with a box filter.
OVERLAY_MAX_SIDE = 1024
OVERLAY_MIN_SIDE = 576
_DCT_SCALES = (8, 4, 2, 1)


def overlay_decode_size(size: tuple[int, int]) -> tuple[int, int]:
    """What to ask `Image.draft` for so that a JPEG of `size` decodes at the cheapest DCT scale that
    keeps at least OVERLAY_MIN_SIDE pixels on its longest side (smaller images decode whole)."""
    width, height = size
    scale = next(s for s in _DCT_SCALES if s == 1 or max(width, height) // s >= OVERLAY_MIN_SIDE)
    # draft() keeps the largest scale s with size // request >= s: floor division asks for exactly `scale`.
    return max(1, width // scale), max(1, height // scale)


def _ramp_palette() -> list[int]:
    """The ramp spread over 256 palette entries (a lookup table Pillow applies in C)."""
    position = np.linspace(0, len(_RAMP) - 1, 256)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(_RAMP) - 1)
    t = (position - low)[:, None]
    return (_RAMP[low] * (1 - t) + _RAMP[high] * t).astype(np.uint8).reshape(-1).tolist()


_PALETTE = _ramp_palette()
_ALPHA = [round(255 * (0.25 + 0.5 * v / 255)) for v in range(256)]  # the hotter, the more colour
_DIMMED = [round(v * 0.45) for v in range(256)] * 3


def overlay_image(image: Any, heat: np.ndarray) -> Any:
    """The painting with the heat map blended over the square the model saw (its centre crop).

    Outside that square the painting is dimmed: the model never looked there. The hotter a place,
    the more of the ramp's colour covers it (25 % to 75 %). Returns a PIL image of `image`'s size,
    or at most OVERLAY_MAX_SIDE pixels a side: decode it with `overlay_decode_size` so that no
    resampling is needed. Lookup tables and compositing run in Pillow's C code: the worker renders
    one of these per upload.
    """
    from PIL import Image

    painting = image if image.mode == "RGB" else image.convert("RGB")  # not modified below: no copy needed
    if max(painting.size) > OVERLAY_MAX_SIDE:
        painting = painting.copy()
        # A box filter with Pillow's integer pre-reduction: under a heat map it cannot be told from
        # bilinear, at 60 % of its cost.
        painting.thumbnail((OVERLAY_MAX_SIDE, OVERLAY_MAX_SIDE), Image.Resampling.BOX)
    w, h = painting.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    heat_big = Image.fromarray((np.clip(heat, 0, 1) * 255).astype(np.uint8)).resize(
        (side, side), Image.Resampling.BICUBIC
    )
    colour = heat_big.copy()
    colour.putpalette(_PALETTE)
    square = Image.composite(colour.convert("RGB"), painting.crop(box), heat_big.point(_ALPHA))
    out = painting.point(_DIMMED)  # dimmed outside the crop
    out.paste(square, box[:2])
    return out
