"""What every model class shares: loaded lazily, once per instance, safely across threads."""

from __future__ import annotations

import threading
from typing import Self


class LazyModel:
    """Subclasses implement `_load()`; callers use `load()` (idempotent) or any method that calls it.

    Loading happens on first use, never at import, so importing a model module stays cheap and a
    web process that only reads stored results never pays for TensorFlow.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = False

    def load(self) -> Self:
        if self._loaded:
            return self
        with self._lock:
            if not self._loaded:  # another thread may have loaded it while this one waited
                self._load()
                self._loaded = True
        return self

    def _load(self) -> None:
        raise NotImplementedError
