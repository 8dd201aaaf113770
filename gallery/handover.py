"""Hand-overs: how a lower layer starts work above it without importing it.

The layers, bottom first (docs/architecture.md): *records* (gallery's models, services, selectors),
*derived* (recommender: models, search, graph, pipeline steps, model versions), *entry points*
(pages, API, admin, Celery tasks, commands). Imports run downwards only. But a record written
below must sometimes start work above: a stored upload is analysed by a Celery task, a replaced
painting is embedded by a worker, a job row is run by one, an influence edit is mirrored into Neo4j,
a deleted upload takes its heat map file with it.

Each such moment is one named `HandOver` here. The writer calls it inside its transaction, with
ids; the one handler, connected once at start-up by `recommender.apps.RecommenderConfig.ready()`,
does or schedules the work, deferring anything outside the database to `transaction.on_commit` (a
rolled-back write starts nothing). A hand-over with no handler raises, so a process that forgot to
connect one fails loudly instead of silently leaving uploads queued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured


class HandOver:
    """One moment a lower layer hands work up: exactly one handler, called with keyword arguments."""

    def __init__(self, name: str, contract: str) -> None:
        self.name, self.contract = name, contract
        self._handler: Callable[..., None] | None = None

    def connect(self, handler: Callable[..., None]) -> None:
        if self._handler is not None and self._handler is not handler:
            raise ImproperlyConfigured(f"hand-over {self.name!r} already has a handler: {self._handler!r}")
        self._handler = handler

    def __call__(self, **kwargs: object) -> None:
        if self._handler is None:
            raise ImproperlyConfigured(
                f"nothing takes over {self.name!r}: recommender.apps.RecommenderConfig.ready() connects it"
            )
        self._handler(**kwargs)

    def __repr__(self) -> str:
        return f"<HandOver {self.name}>"


@dataclass(frozen=True)
class PainterChange:
    """What changed in painters and influences, for the Neo4j mirror (keys are painter slugs)."""

    artists: list[tuple[str, str]] = field(default_factory=list)  # (key, name) created or renamed
    influences: list[tuple[str, str]] = field(default_factory=list)  # (artist key, influencer key) added
    influences_removed: list[tuple[str, str]] = field(default_factory=list)
    artists_removed: list[str] = field(default_factory=list)


upload_created = HandOver(
    "upload_created", "upload_id: a stored upload waits for its analysis (send the pipeline after commit)"
)
artwork_needs_embedding = HandOver(
    "artwork_needs_embedding", "artwork_id: a new or replaced image has no embedding (embed it after commit)"
)
job_queued = HandOver("job_queued", "job_id: a Job row is queued (send it to a worker after commit)")
painters_changed = HandOver("painters_changed", "change: a PainterChange (mirror it into Neo4j after commit)")
upload_deleting = HandOver(
    "upload_deleting", "upload_id: the upload is about to be deleted (delete its derived files after commit)"
)
