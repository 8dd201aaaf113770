"""Activations of the frozen bottom of the network, computed once per image and view.

Training the top blocks on cached activations is what makes fine-tuning possible on two CPU
cores: the bottom (half the forward cost) never runs again. Caches are float16 ``.npy`` files under
``STYLE_CACHE_DIR`` (default /tmp), never in the repository, keyed by everything that shapes them.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from recommender.ml.loader import iter_batches
from recommender.ml.preprocess import IMAGE_SIZE

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
) -> np.ndarray:
    """(views, N, h, w, c) float16 activations of ``bottom`` on ``view(item, v)``; memory-mapped
    from ``cache_file`` when it exists."""
    import tensorflow as tf

    if cache_file.is_file():
        progress(f"[cache] {label}: reusing {cache_file}")
        return np.load(cache_file, mmap_mode="r")
    shape = tuple(int(d) for d in bottom.output.shape[1:])
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache_file.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float16, shape=(views, len(items), *shape))
    fwd = tf.function(
        lambda x: bottom(x, training=False),
        input_signature=[tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32)],
    )
    jobs = [(v, item) for v in range(views) for item in items]
    t0 = time.perf_counter()
    for start, x in iter_batches(jobs, lambda job: view(job[1], job[0]), batch_size=batch):
        acts = fwd(x).numpy().astype(np.float16)
        for offset, (v, _) in enumerate(jobs[start : start + len(x)]):
            out[v, (start + offset) % len(items)] = acts[offset]
        done = start + len(x)
        if (start // batch) % 50 == 0 or done == len(jobs):
            rate = done / (time.perf_counter() - t0)
            progress(
                f"[cache] {label}: {done}/{len(jobs)} views, {rate:.0f}/s, "
                f"~{(len(jobs) - done) / rate / 60:.1f} min left"
            )
    out.flush()
    del out
    tmp.rename(cache_file)
    return np.load(cache_file, mmap_mode="r")


def run_batched(fn: Any, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """Apply a tf.function to a (possibly memory-mapped float16) array in batches."""
    outs = [fn(np.asarray(x[i : i + batch], dtype=np.float32)).numpy() for i in range(0, len(x), batch)]
    return np.concatenate(outs)
