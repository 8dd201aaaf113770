"""Settings of a Celery worker that a test runs as a real subprocess (tests/recommender/test_recovery.py).

The test settings, pointed at what the running test uses: its database (pytest-django's test
database), its media folder (a fresh temporary one per process otherwise) and its Celery queue (a
fresh name per process otherwise). The test passes them in the environment.
"""

import os
from pathlib import Path

from artsite.settings.test import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["ARTSITE_WORKER_DB_NAME"]  # noqa: F405
MEDIA_ROOT = Path(os.environ["ARTSITE_WORKER_MEDIA_ROOT"])
CELERY_TASK_DEFAULT_QUEUE = os.environ["ARTSITE_WORKER_QUEUE"]
NEO4J_ARTIST_LABEL = os.environ["ARTSITE_WORKER_NEO4J_LABEL"]
