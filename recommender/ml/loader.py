"""The one batched, prefetching image loader: decode the next batches while the model runs.

Pillow releases the GIL while decoding, so a small thread pool keeps the model busy. Only
``prefetch`` decoded batches exist at any time (never the whole dataset).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def iter_batches[T](
    items: Sequence[T],
    decode: Callable[[T], np.ndarray],
    *,
    batch_size: int = 32,
    workers: int = 2,
    prefetch: int = 3,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(start, stacked batch)`` for consecutive slices of ``items``, in order."""
    starts = range(0, len(items), batch_size)

    def load(start: int) -> np.ndarray:
        return np.stack([decode(item) for item in items[start : start + batch_size]])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[tuple[int, Future[np.ndarray]]] = deque()
        it = iter(starts)
        for start in it:
            pending.append((start, pool.submit(load, start)))
            if len(pending) >= prefetch:
                break
        while pending:
            start, future = pending.popleft()
            nxt = next(it, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(load, nxt)))
            yield start, future.result()
