"""`manage.py health`: the checks of /health/ run in this process, for `make status` when no site runs."""

from __future__ import annotations

import asyncio
import logging

from django.core.management.base import BaseCommand, CommandError

from artsite.health import checks


def _instances() -> list:
    out = []
    for entry in checks():
        check, options = entry if isinstance(entry, tuple) else (entry, {})
        out.append(check(**options))
    return out


async def _run_all() -> list:
    return await asyncio.gather(*(check.get_result() for check in _instances()))


class Command(BaseCommand):
    help = "Check the database, cache, broker, Neo4j, storage and a live worker; exit 1 if any fails."

    def handle(self, *args, **options) -> None:
        # The checks log a traceback per failure (useful in the web log); here the lines below say it.
        logging.getLogger("health_check").setLevel(logging.CRITICAL)
        results = asyncio.run(_run_all())
        for result in results:
            status = "OK" if result.error is None else str(result.error)
            line = f"{result.check!r}: {status} ({result.time_taken:.2f} s)"
            self.stdout.write(line if result.error is None else self.style.ERROR(line))
        failing = [r for r in results if r.error is not None]
        if failing:
            raise CommandError(f"{len(failing)} of {len(results)} checks failing")
