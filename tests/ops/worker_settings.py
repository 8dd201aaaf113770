"""Settings of a Celery worker that tests/ops runs as a real subprocess ("another host").

The test settings, pointed at what the running test uses (its database, Celery queue and Neo4j
label, passed in the environment), with a media folder of its own and, when GROW_S3_ENDPOINT is
set, the S3-compatible storage the test started: nothing is shared with the web process but the
database, the broker and the bucket.
"""

import os
from pathlib import Path

from artsite.settings.test import *  # noqa: F403

DATABASES["default"]["NAME"] = os.environ["OPS_WORKER_DB_NAME"]  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = os.environ["OPS_WORKER_QUEUE"]
NEO4J_ARTIST_LABEL = os.environ["OPS_WORKER_NEO4J_LABEL"]
MEDIA_ROOT = Path(os.environ["OPS_WORKER_MEDIA_ROOT"])
# A killed worker's unacknowledged message returns to the queue after this long (kombu restores
# it from another worker); production keeps the default hour, tests cannot wait that long.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("OPS_WORKER_VISIBILITY_S", "3600"))}
if os.environ.get("OPS_S3_ENDPOINT"):
    STORAGES = {
        **STORAGES,  # noqa: F405
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": os.environ["OPS_S3_BUCKET"],
                "endpoint_url": os.environ["OPS_S3_ENDPOINT"],
                "access_key": "test-key",
                "secret_key": "test-secret",
                "region_name": "us-east-1",
            },
        },
    }
