"""The custom Keras layer the style network is built with, registered so a saved model loads.

Importing this module imports Keras (and so TensorFlow): only `KerasArtifact._load` and the training
code import it, never a module the web process loads.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="artsite")
class ChannelStats(keras.layers.Layer):
    """(N, H, W, C) feature map -> (N, 2C): each channel's mean and standard deviation over the map.

    These are the "style" statistics of a layer (as in AdaIN and the Gram-matrix style losses, of which
    they are the diagonal): they say how strongly and how evenly each texture detector fires, not
    where, so they carry brushwork, texture and colour rather than the objects painted.
    """

    def __init__(self, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, x: Any) -> Any:
        mean = ops.mean(x, axis=(1, 2))
        var = ops.mean(ops.square(x - mean[:, None, None, :]), axis=(1, 2))
        return ops.concatenate([mean, ops.sqrt(var + self.epsilon)], axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], 2 * int(input_shape[-1]))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "epsilon": self.epsilon}
