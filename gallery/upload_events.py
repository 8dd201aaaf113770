"""Wait for an upload to move instead of polling it: PostgreSQL tells the waiting request.

A trigger (migration 0007) sends a NOTIFY on the channel `upload_<id>` whenever an upload's status,
stage or progress changes or it is deleted, whoever writes it (the worker's steps and leases, the
sweep, a failure). PostgreSQL delivers it when the writing transaction commits, so a woken request
always reads the new row. The request LISTENs before its first read, so a change between that read
and the wait is not missed.

Why: a client polling every 250 ms sent 5–8 status requests per upload, each a full Django request
(authentication, the connection health check, middleware, gunicorn) for an answer that had not
changed; waiting costs no CPU (the thread sleeps in `select` on the database socket) and answers the
moment the upload moves (issue 19). Each waiter holds a web thread and its database connection, so a
web process lets at most settings.UPLOAD_WAIT_MAX_PER_PROCESS wait at once; beyond that, and inside a
transaction (where LISTEN would only start at commit), the request answers at once, as a plain poll.
"""

from __future__ import annotations

import select
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection

WAIT_MAX_S = 20.0  # well below the usual 30–60 s proxy timeouts

_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


@dataclass(frozen=True)
class WaitQuery:
    """`?wait=` seconds (0: answer at once) and `?progress=`: the progress the client last saw."""

    wait_s: float = 0.0
    progress: int | None = None

    def settled(self, *, finished: bool, progress: int) -> bool:
        """Whether to answer now: the upload is finished, or has moved past what the client saw."""
        return finished or (self.progress is not None and progress != self.progress)


class WaitQueryRejected(ValueError):
    """A bad `wait` or `progress`; `field` names it, the message says in words what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def wait_query(params: Mapping[str, str]) -> WaitQuery:
    """The status request's query (WaitQueryRejected when it is not one)."""
    wait_s, progress = 0.0, None
    if params.get("wait", "") != "":
        try:
            wait_s = float(params["wait"])
        except ValueError:
            raise WaitQueryRejected("wait", "`wait` must be a number of seconds.") from None
        if not 0 <= wait_s <= WAIT_MAX_S:
            raise WaitQueryRejected("wait", f"`wait` must be between 0 and {WAIT_MAX_S:g} seconds.")
    if params.get("progress", "") != "":
        try:
            progress = int(params["progress"])
        except ValueError:
            raise WaitQueryRejected("progress", "`progress` must be a whole number from 0 to 100.") from None
        if not 0 <= progress <= 100:
            raise WaitQueryRejected("progress", "`progress` must be a whole number from 0 to 100.")
    return WaitQuery(wait_s=wait_s, progress=progress)


def _take_slot() -> threading.BoundedSemaphore | None:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.UPLOAD_WAIT_MAX_PER_PROCESS)
    return _slots if _slots.acquire(blocking=False) else None


def upload_wait[T](*, upload_id: int, read: Callable[[], T], settled: Callable[[T], bool], wait_s: float) -> T:
    """`read()` now and again each time the upload changes, until `settled(result)` or `wait_s`
    seconds have passed; returns the last read. Whatever `read` raises (not found) propagates."""
    slot = _take_slot() if wait_s > 0 and not connection.in_atomic_block else None
    if slot is None:
        return read()
    channel = f'"upload_{int(upload_id)}"'
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {channel}")
        deadline = time.monotonic() + wait_s
        result = read()
        while not settled(result):
            left = deadline - time.monotonic()
            raw = connection.connection
            if left <= 0 or not select.select([raw], [], [], left)[0]:
                break
            with connection.wrap_database_errors:
                raw.poll()
            if raw.notifies:
                raw.notifies.clear()
                result = read()
        return result
    finally:
        slot.release()
        try:  # the connection outlives the request (CONN_MAX_AGE): leave it listening to nothing
            with connection.cursor() as cursor:
                cursor.execute(f"UNLISTEN {channel}")
            if connection.connection is not None:
                connection.connection.notifies.clear()
        except DatabaseError:
            pass  # a broken connection is closed at the end of the request anyway
