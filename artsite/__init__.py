# Celery is wired once, here, so that `shared_task` binds to the project app in every process.
from .celery import app as celery_app

__all__ = ("celery_app",)
