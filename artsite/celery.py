"""The project's Celery app. Configuration comes from Django settings (namespace CELERY_).

Tasks live in `recommender.tasks` (the upload pipeline and the stale-upload sweep), found by
autodiscovery of each installed app's `tasks` module. The sweep's schedule is CELERY_BEAT_SCHEDULE;
the worker runs beat itself (`celery worker -B`, scripts/run.sh).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")

app = Celery("artsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
