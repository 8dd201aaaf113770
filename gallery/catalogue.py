"""Curators' writes to the living catalogue: save an artwork and queue its embedding, start an import.

No ML here (the admin runs in the web process): the embedding is computed by a worker after the
transaction commits (handed over through `gallery.handover.artwork_needs_embedding`); the import
runs as a Job.
"""

from __future__ import annotations

import uuid
import zipfile
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from . import handover
from .jobs import job_create
from .models import Artwork, Job

IMPORT_PREFIX = "imports/"


class ArchiveRejected(ValueError):
    """The uploaded file cannot be a catalogue archive; the message says why. Nothing was stored."""


def artwork_save(*, artwork: Artwork, image_changed: bool) -> Artwork:
    """Save a curator's edit; a new or replaced image is embedded by a worker once this commits.

    A replaced image's old vector describes the old picture, so it is cleared: the work is
    "pending" (absent from similarity search) for the seconds until the worker has embedded it.
    """
    with transaction.atomic():
        if image_changed:
            artwork.embedding, artwork.embedding_version, artwork.embedding_error = None, "", ""
        artwork.save()
        if image_changed:
            handover.artwork_needs_embedding(artwork_id=artwork.pk)
    return artwork


def artworks_embed_again(*, artwork_ids: list[int]) -> int:
    """Queue the embedding of these artworks (the admin's "embed now", a failure's retry)."""
    with transaction.atomic():
        Artwork.objects.filter(pk__in=artwork_ids).update(embedding_error="")
        for artwork_id in artwork_ids:
            handover.artwork_needs_embedding(artwork_id=artwork_id)
    return len(artwork_ids)


def catalogue_archive_import(*, upload: IO[bytes], filename: str, user=None) -> Job:
    """Store an uploaded catalogue zip where every worker can read it and start an import job.

    The archive must hold catalogue.csv (optionally artists.csv, influences.csv) and the images it
    names, at its top level or in one folder. Raises ArchiveRejected before storing anything.
    """
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise ArchiveRejected("This file is not a zip archive.") from exc
    if not any(n == "catalogue.csv" or (n.count("/") == 1 and n.endswith("/catalogue.csv")) for n in names):
        raise ArchiveRejected("The archive has no catalogue.csv at its top level (or in one folder).")
    upload.seek(0)
    name = default_storage.save(f"{IMPORT_PREFIX}{uuid.uuid4().hex}.zip", File(upload, name="catalogue.zip"))
    return job_create(kind=Job.Kind.IMPORT, params={"file": name, "filename": filename[:200]}, user=user)
