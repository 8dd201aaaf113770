"""The project's Celery app. Configuration comes from Django settings (namespace CELERY_)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")

app = Celery("artsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
