"""Keras surgery on the EfficientNet-Lite0 backbone: cut it, re-apply its top, assemble the app's model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

BACKBONE_NAME = "efficientnet_lite0_imagenet.keras"
BACKBONE_LABEL = "EfficientNet-Lite0 (ImageNet-1k, Keras 3 conversion)"
N_BLOCKS = 16  # MBConv blocks of EfficientNet-Lite0


def default_backbone_path() -> Path:
    """The shared EfficientNet-Lite0 file (``STYLE_BACKBONE_PATH`` overrides)."""
    env = os.environ.get("STYLE_BACKBONE_PATH")
    path = Path(env) if env else Path(settings.SHARED_DIR) / "models" / "keras" / BACKBONE_NAME
    if not path.is_file():
        raise FileNotFoundError(f"backbone {BACKBONE_NAME} not found at {path} (set STYLE_BACKBONE_PATH)")
    return path


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
