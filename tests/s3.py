"""An S3-compatible server for tests: moto's stand-alone server in its own process, and bucket helpers.

The fixtures `s3_endpoint` (one server per session) and `s3_bucket` (a fresh bucket per test) live in
tests/conftest.py; the scale-out tests (tests/ops) and the API link walk (tests/gallery) use them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import boto3

S3_KEYS = {"aws_access_key_id": "test-key", "aws_secret_access_key": "test-secret", "region_name": "us-east-1"}
# The same keys, as django-storages' S3Storage options spell them.
STORAGE_KEYS = {"access_key": "test-key", "secret_key": "test-secret", "region_name": "us-east-1"}

_MOTO = """
import sys, threading
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
threading.Event().wait()
"""


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server as its own process on a free port (port 0); yields its endpoint URL."""
    process = subprocess.Popen([sys.executable, "-c", _MOTO], stdout=subprocess.PIPE, text=True)
    try:
        port = int(process.stdout.readline().strip())
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def bucket_create(endpoint: str) -> str:
    name = f"artsite-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, **S3_KEYS).create_bucket(Bucket=name)
    return name


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    response = boto3.client("s3", endpoint_url=endpoint, **S3_KEYS).list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in response.get("Contents", [])]


def bucket_make_catalogue_public(endpoint: str, bucket: str) -> None:
    """The bucket policy docs/security.md asks for: `artworks/*` public-read, everything else private."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/artworks/*",
            }
        ],
    }
    boto3.client("s3", endpoint_url=endpoint, **S3_KEYS).put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
