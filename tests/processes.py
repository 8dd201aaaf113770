"""Helpers for tests that start and kill real processes (Celery workers)."""

from __future__ import annotations

from pathlib import Path


def child_pids(pid: int) -> set[int]:
    """Direct child processes of ``pid`` (Linux /proc): a Celery worker's pool children."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return found
