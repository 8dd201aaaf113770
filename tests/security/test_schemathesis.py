"""The OpenAPI schema tells the truth: schemathesis fuzzes every API operation against a real server.

Bounded (a fixed number of examples per operation and a fixed seed, so a run is repeatable and takes
about a minute or two), with every check schemathesis has: no 5xx, only documented status codes and
content types, responses matching their schemas, invalid input rejected, valid input accepted,
deleted uploads really gone, authentication not ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from knox.models import AuthToken

from gallery import upload_events
from tests.factories import artist_create, artwork_create, upload_create

pytestmark = [pytest.mark.django_db(transaction=True)]
ST = Path(sys.executable).parent / "st"
CONFIG = Path(__file__).with_name("schemathesis.toml")  # the few operations whose 400s are semantic
EXAMPLES_PER_OPERATION = 25


def test_schemathesis_finds_nothing(live_server, owner, tmp_path: Path, settings, monkeypatch) -> None:
    # No worker runs here, so an upload never moves: a `?wait=` would sleep its whole time. Without
    # waiting slots those requests answer at once (the same bodies; tests/gallery/test_upload_wait.py
    # covers the waiting).
    settings.UPLOAD_WAIT_MAX_PER_PROCESS = 0
    monkeypatch.setattr(upload_events, "_slots", None)
    painter = artist_create(name="Claude Monet")
    artwork = artwork_create(title="Water Lilies", artist=painter)
    upload = upload_create(owner=owner)
    _, token = AuthToken.objects.create(user=owner)
    # Half the generated ids are ones that exist, so detail operations answer 200 (and their bodies are
    # checked against the schema), not only 404.
    known_ids = sorted({painter.pk, artwork.pk, upload.pk})
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.read_text()
        + f"\n[dictionaries.known_ids]\nvalues = {known_ids}\n"
        + '\n[parameters]\n"path.id" = { dictionary = "known_ids", probability = 0.5 }\n'
    )
    command = [
        str(ST),
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/schema/",
        "--url",
        live_server.url,
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        os.environ.get("ARTSITE_SCHEMATHESIS_SEED", "20261126"),  # another seed explores other inputs
        "--workers",
        "1",
        "--request-timeout",
        "20",
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    # cwd: schemathesis keeps a cache folder (.schemathesis/) where it runs; not in the checkout.
    result = subprocess.run(command, capture_output=True, text=True, timeout=420, cwd=tmp_path)
    (tmp_path / "schemathesis.txt").write_text(result.stdout + result.stderr)  # the whole report, for a failure
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-3000:]
