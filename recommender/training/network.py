"""Keras surgery on the EfficientNet-Lite0 backbone: cut it, re-apply its top, assemble the app's model."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
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
    top = keras.Model(top_in, _reapply(backbone, cut, top_in, "avg_pool")["avg_pool"], name="top")
    return bottom, top, cut


def _reapply(backbone: Any, cut: str, new_input: Any, until: str, keep: Sequence[str] = ()) -> dict[str, Any]:
    """Call the backbone's layers after ``cut`` on ``new_input`` (same layer objects, so weights
    are shared) up to and including ``until``; returns the new tensors of ``until``, ``cut`` and
    ``keep`` by layer name."""
    tensors: dict[int, Any] = {id(backbone.get_layer(cut).output): new_input}
    named: dict[str, Any] = {cut: new_input}
    names = [ly.name for ly in backbone.layers]
    for layer in backbone.layers[names.index(cut) + 1 :]:
        node = layer._inbound_nodes[0]
        args = [tensors[id(t)] for t in node.input_tensors]
        out = layer(args if len(args) > 1 else args[0])
        tensors[id(layer.output)] = out
        if layer.name in keep or layer.name == until:
            named[layer.name] = out
        if layer.name == until:
            return named
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


# -- the statistics head ------------------------------------------------------------------------
# Layers whose per-channel mean and standard deviation feed the head, from fine strokes (112x112) to
# the last block (7x7): one tap per resolution stage, at the end of the stage.
STAT_TAPS = (
    "block0_project_bn",
    "block2_add",
    "block4_add",
    "block7_add",
    "block10_add",
    "block14_add",
    "block15_project_bn",
)
HEAD_KINDS = ("linear-pooled", "linear-stats", "mlp-stats")
EMBEDDINGS = ("pooled", "hidden", "blend")


@dataclass(frozen=True)
class StatsCut:
    """The backbone cut for training with a statistics head.

    ``bottom``: image -> [cut activations, stats of each tap below the cut] (frozen, cached);
    ``top``: cut activations -> [stats of each tap from the cut up, avg-pool] (fine-tuned).
    The head's inputs are ``low_taps`` stats, ``top_taps`` stats, then the pooled features.
    """

    bottom: Any
    top: Any
    cut: str
    low_taps: tuple[str, ...]
    top_taps: tuple[str, ...]
    group_dims: tuple[int, ...]  # width of each head input, in order

    @property
    def low_dims(self) -> tuple[int, ...]:
        return self.group_dims[: len(self.low_taps)]


def split_backbone_with_stats(backbone: Any, fine_tune_blocks: int) -> StatsCut:
    import keras

    from recommender.ml.layers import ChannelStats

    cut = block_input_layer(backbone, N_BLOCKS - fine_tune_blocks)
    names = [ly.name for ly in backbone.layers]
    low = tuple(t for t in STAT_TAPS if names.index(t) < names.index(cut))
    high = tuple(t for t in STAT_TAPS if names.index(t) >= names.index(cut))
    cut_tensor = backbone.get_layer(cut).output
    low_stats = [ChannelStats(name=f"stats_{t}")(backbone.get_layer(t).output) for t in low]
    bottom = keras.Model(backbone.input, [cut_tensor, *low_stats], name="bottom")
    top_in = keras.Input(cut_tensor.shape[1:], name="cut_features")
    named = _reapply(backbone, cut, top_in, "avg_pool", keep=high)
    top_out = [ChannelStats(name=f"stats_{t}")(named[t]) for t in high] + [named["avg_pool"]]
    top = keras.Model(top_in, top_out, name="top")
    dims = tuple(int(t.shape[-1]) for t in [*low_stats, *top_out])
    return StatsCut(bottom, top, cut, low, high, dims)


def make_stats_head(
    group_dims: Sequence[int], n_classes: int, kind: str, *, hidden: int = 1280, dropout: float = 0.5
) -> Any:
    """The head: [stats groups..., pooled] -> (probs, hidden features).

    ``linear-pooled`` is the previous head (a softmax on the pooled features alone); ``linear-stats``
    and ``mlp-stats`` normalise each group on its own (the layers' scales differ by orders of
    magnitude) and concatenate them with the pooled features; ``mlp-stats`` adds a ``hidden``-wide GELU
    layer, whose output can serve as the search embedding.
    """
    import keras

    if kind not in HEAD_KINDS:
        raise ValueError(f"head kind must be one of {HEAD_KINDS}, not {kind!r}")
    inputs = [keras.Input((d,), name=f"head_in_{i}") for i, d in enumerate(group_dims)]
    if kind == "linear-pooled":
        x = inputs[-1]
    else:
        x = keras.layers.Concatenate(name="style_features")(
            [keras.layers.LayerNormalization(name=f"norm_{i}")(t) for i, t in enumerate(inputs)]
        )
    x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    features = x
    if kind == "mlp-stats":
        features = keras.layers.Dense(hidden, activation="gelu", name="style_hidden")(x)
        x = keras.layers.Dropout(dropout, name="hidden_dropout")(features)
    probs = keras.layers.Dense(n_classes, activation="softmax", name="style_probs")(x)
    return keras.Model(inputs, [probs, features], name="style_head")


def assemble_stats_network(backbone: Any, head: Any, cut: StatsCut, embedding: str) -> Any:
    """The shipped model: image (RGB 0..255) -> (probs, L2-normalised 1280-d embedding).

    ``embedding``: ``pooled`` (the backbone's avg-pool), ``hidden`` (the head's hidden layer) or
    ``blend`` (the sum of both, each normalised first, normalised again).
    """
    import keras

    from recommender.ml.layers import ChannelStats

    if embedding not in EMBEDDINGS:
        raise ValueError(f"embedding must be one of {EMBEDDINGS}, not {embedding!r}")
    pooled = backbone.get_layer("avg_pool").output
    groups = [ChannelStats(name=f"stats_{t}")(backbone.get_layer(t).output) for t in cut.low_taps + cut.top_taps]
    probs, hidden = head([*groups, pooled])
    unit = keras.layers.UnitNormalization
    if embedding == "pooled":
        emb = unit(axis=-1, name="embedding")(pooled)
    elif embedding == "hidden":
        emb = unit(axis=-1, name="embedding")(hidden)
    else:
        both = keras.layers.Add(name="blend")(
            [unit(axis=-1, name="pooled_unit")(pooled), unit(axis=-1, name="hidden_unit")(hidden)]
        )
        emb = unit(axis=-1, name="embedding")(both)
    probs = keras.layers.Identity(name="probs")(probs)
    return keras.Model(backbone.input, [probs, emb], name="style_effnetlite0_stats")


def copy_weights_by_name(source: Any, target: Any) -> int:
    """Copy the weights of every layer of ``target`` that ``source`` has under the same name and
    shape (a fine-tuned artefact into a fresh backbone); returns how many layers were copied."""
    src = {ly.name: ly for ly in source.layers}
    copied = 0
    for layer in target.layers:
        other = src.get(layer.name)
        if other is None or not layer.weights:
            continue
        theirs = other.get_weights()
        if [w.shape for w in theirs] == [tuple(v.shape) for v in layer.weights]:
            layer.set_weights(theirs)
            copied += 1
    return copied
