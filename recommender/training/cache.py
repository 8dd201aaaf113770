"""Activations of the frozen bottom of the network, computed once per image and view.

Training the top blocks on cached activations is what makes fine-tuning possible on two CPU
cores: the bottom (half the forward cost) never runs again. Caches are float16 ``.npy`` files under
``STYLE_CACHE_DIR`` (default /tmp), never in the repository, keyed by everything that shapes them.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from recommender.ml.loader import iter_batches
from recommender.ml.preprocess import IMAGE_SIZE

if TYPE_CHECKING:
    from recommender.training.network import StatsCut

DEFAULT_CACHE_DIR = Path(os.environ.get("STYLE_CACHE_DIR", "/tmp/artsite_style_cache"))

T = TypeVar("T")


def cache_key(*parts: object) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(repr(part).encode())
        h.update(b"|")
    return h.hexdigest()[:16]


def cut_activations[T](
    bottom: Any,
    items: Sequence[T],
    view: Callable[[T, int], np.ndarray],
    *,
    views: int,
    cache_file: Path,
    progress: Callable[[str], None],
    label: str,
    batch: int = 32,
) -> tuple[np.ndarray, np.ndarray]:
    """``bottom``'s outputs on ``view(item, v)`` for every view and item: the first output (the cut
    activations) as (views, N, h, w, c) float16, memory-mapped from ``cache_file``, and the others
    (per-channel statistics of lower layers) concatenated as (views, N, d) float32 (d may be 0)."""
    import tensorflow as tf

    stats_file = cache_file.with_suffix(".stats.npy")
    if cache_file.is_file() and stats_file.is_file():
        progress(f"[cache] {label}: reusing {cache_file}")
        return np.load(cache_file, mmap_mode="r"), np.load(stats_file)
    outputs = bottom.outputs if isinstance(bottom.outputs, list) else [bottom.outputs]
    shape = tuple(int(d) for d in outputs[0].shape[1:])
    stats_dim = sum(int(o.shape[-1]) for o in outputs[1:])
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(views, len(items), *shape))
    stats = np.zeros((views, len(items), stats_dim), np.float32)

    @tf.function(input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32)])
    def fwd(x: Any) -> Any:
        acts, *rest = tf.nest.flatten(bottom(x, training=False))
        return acts, (tf.concat(rest, axis=-1) if rest else tf.zeros([tf.shape(x)[0], 0]))

    jobs = [(v, item) for v in range(views) for item in items]
    t0 = time.perf_counter()
    for start, x in iter_batches(jobs, lambda job: view(job[1], job[0]), batch_size=batch):
        acts, st = (t.numpy() for t in fwd(x))
        for offset, (v, _) in enumerate(jobs[start : start + len(x)]):
            i = (start + offset) % len(items)
            out[v, i] = acts[offset].astype(np.float16)
            stats[v, i] = st[offset]
        done = start + len(x)
        if (start // batch) % 50 == 0 or done == len(jobs):
            rate = done / (time.perf_counter() - t0)
            progress(
                f"[cache] {label}: {done}/{len(jobs)} views, {rate:.0f}/s, "
                f"~{(len(jobs) - done) / rate / 60:.1f} min left"
            )
    out.flush()
    del out
    np.save(stats_file, stats)
    tmp.rename(cache_file)  # last: a cache file exists only once both are complete
    return np.load(cache_file, mmap_mode="r"), stats


def run_batched(fn: Any, x: np.ndarray | Sequence[np.ndarray], batch: int = 256) -> Any:
    """Apply a tf.function to a (possibly memory-mapped float16) array, or to a list of arrays of one
    length (several inputs), in batches; a function with several outputs gives a tuple of arrays."""
    xs = [x] if isinstance(x, np.ndarray) else list(x)
    outs: list[Any] = []
    for i in range(0, len(xs[0]), batch):
        args = [np.asarray(a[i : i + batch], dtype=np.float32) for a in xs]
        out = fn(args if len(args) > 1 else args[0])  # a Keras model takes several inputs as one list
        outs.append(tuple(o.numpy() for o in out) if isinstance(out, (tuple, list)) else out.numpy())
    if outs and isinstance(outs[0], tuple):
        return tuple(np.concatenate(col) for col in zip(*outs, strict=True))
    return np.concatenate(outs)


class Features:
    """Cached bottom outputs of every part, and the network inputs built from them."""

    def __init__(self, cut: StatsCut) -> None:
        self.cut = cut
        self.acts: dict[str, np.ndarray] = {}
        self.low: dict[str, np.ndarray] = {}

    def inputs(self, part: str, view: Any, rows: Any = slice(None)) -> list[np.ndarray]:
        """[cut activations, stats of each lower tap] of ``part`` in ``view`` (an int or, with
        ``rows``, an array of views, one per row)."""
        acts = np.asarray(self.acts[part][view, rows], dtype=np.float32)
        low = self.low[part][view, rows]
        edges = np.cumsum((0, *self.cut.low_dims))
        return [acts, *[low[:, a:b] for a, b in itertools.pairwise(edges)]]
