"""`manage.py activate_style_model VERSION`: switch search and uploads to another trained version.

The catalogue is embedded with VERSION beside the active vectors (search keeps answering from the
active version), then one transaction flips both search and the upload pipeline. By default a
worker runs the job (follow it on /staff/jobs/ or with --wait); --foreground runs it here.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from gallery.models import Job
from recommender import versions
from recommender.jobs import run_job


class Command(BaseCommand):
    help = "Embed the catalogue with a trained style-model version beside the active one, then switch to it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("version", nargs="?", help="a version under STYLE_MODEL_DIR (see --list)")
        parser.add_argument("--list", action="store_true", help="list trained versions and which is active")
        parser.add_argument("--wait", action="store_true", help="follow the worker's job until it ends")
        parser.add_argument("--foreground", action="store_true", help="run the job in this process (no worker needed)")

    def handle(self, *args, version: str | None, list: bool, wait: bool, foreground: bool, **options) -> None:
        if list or not version:
            self._list()
            if not version:
                return
        try:
            job = versions.version_activate(version=version)
        except versions.UnknownVersion as exc:
            raise CommandError(str(exc)) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if foreground:
            Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)  # the worker's copy finds it taken
            self.stdout.write(f"job #{job.pk}: embedding the catalogue with {version} here")
            message = run_job.apply(args=[job.pk], throw=True).get()
            self.stdout.write(self.style.SUCCESS(message))
            return
        self.stdout.write(f"job #{job.pk} queued: a worker embeds the catalogue with {version}, then switches")
        if wait:
            self._follow(job.pk)

    def _list(self) -> None:
        active = versions.active_version()
        pending = versions.version_pending()
        for name, directory in versions.available_versions().items():
            mark = " (active)" if name == active else " (switch running)" if name == pending else ""
            self.stdout.write(f"{name}{mark}  {directory}")

    def _follow(self, job_id: int) -> None:
        last = None
        while True:
            job = Job.objects.get(pk=job_id)
            line = f"{job.status}: {job.progress}/{job.total} {job.message}"
            if line != last:
                self.stdout.write(line)
                last = line
            if job.status == Job.Status.DONE:
                return
            if job.status == Job.Status.FAILED:
                raise CommandError(f"job #{job_id} failed: {job.error}")
            time.sleep(2)
