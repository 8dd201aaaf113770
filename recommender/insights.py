"""What the analysis explains about an upload beside its style: palette, "already in the catalogue", heat map.

Computed by the worker in the analyse step (recommender.pipeline.upload_analyse) from the image it
already holds and the embedding the forward pass gave, stored with the predictions, read by the
results page and the API. Each part is best-effort: a failure is logged and that part left empty,
never the upload failed for it (the style and similar works are what the person asked for).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image

from .duplicates import find_duplicate
from .fingerprint import phash_of_image
from .models import UploadInsight

logger = logging.getLogger(__name__)

HEATMAP_QUALITY = 85
HASH_SIDE = 256
# The upload's palette is shown, never searched (catalogue palettes keep palette.SAMPLE_SIDE): k-means
# on at most 32 × 32 pixels costs a third of 64 × 64 and lands within ~3 ΔE of it (mean, measured on
# 51 catalogue paintings; 2.3 is a just-noticeable difference).
PALETTE_SAMPLE_SIDE = 32


@dataclass
class InsightResult:
    palette: list[dict] = field(default_factory=list)
    phash: str = ""
    duplicate: Any = None  # recommender.duplicates.DuplicateMatch | None
    heatmap_jpeg: bytes = b""
    heatmap_style: str = ""
    painting_source: str = ""
    painting_corners: list | None = None
    painting_confidence: float | None = None
    painting_jpeg: bytes = b""  # the straightened painting, when a part of the photo was cut out
    timings_ms: dict[str, float] = field(default_factory=dict)


def upload_insight_compute(
    *,
    upload,
    framing,
    embedding,
    heat,
    style: str,
    neighbours: Sequence[Any] | None = None,
    hashes: Mapping[int, str] | None = None,
) -> InsightResult:
    """Palette and hash, duplicate check, and the heat map `heat` (Grad-CAM of the top style `style`,
    from the analysis pass) drawn over the painting: all of the part `framing` (recommender.framing)
    chose, the straightened painting of a wall photo or the image as decoded for it."""
    # heavy: palette and gradcam import numpy; the web process imports this module (results, API).
    from .ml.gradcam import overlay_image
    from .palette import palette_of_image

    result = InsightResult(
        painting_source=framing.source,
        painting_corners=framing.corners,
        painting_confidence=framing.confidence,
        timings_ms={"painting": framing.ms},
    )
    if framing.cut_out:
        buffer = io.BytesIO()
        framing.image.save(buffer, format="JPEG", quality=HEATMAP_QUALITY)
        result.painting_jpeg = buffer.getvalue()
    try:
        started = time.perf_counter()
        # Decoded once by the framing step, at the JPEG DCT scale the overlay is drawn at: a 2,000 px
        # stored photo decodes at 1/2 scale (a quarter of the pixels), and the overlay needs no resampling.
        original = framing.image
        # Palette and hash from a copy about the size the catalogue's were computed from: pHash's
        # Lanczos resize to 32×32 from the full overlay size would cost more than the palette.
        small = original.copy()
        small.thumbnail((HASH_SIDE, HASH_SIDE), Image.Resampling.BOX)
        result.palette = [c.as_dict() for c in palette_of_image(small, sample_side=PALETTE_SAMPLE_SIDE)]
        result.phash = phash_of_image(small)
        result.timings_ms["palette"] = (time.perf_counter() - started) * 1000
    except (OSError, ValueError) as exc:
        logger.warning("upload %s: no palette: %s", upload.pk, exc)
        original = None
    try:
        started = time.perf_counter()
        result.duplicate = find_duplicate(embedding=embedding, phash=result.phash, neighbours=neighbours, hashes=hashes)
        result.timings_ms["duplicate"] = (time.perf_counter() - started) * 1000
    except Exception:  # best-effort part: the style and similar works must not fail for it
        logger.exception("upload %s: duplicate check failed", upload.pk)
    if original is not None and heat is not None:
        try:
            started = time.perf_counter()
            buffer = io.BytesIO()
            overlay_image(original, heat).save(buffer, format="JPEG", quality=HEATMAP_QUALITY)
            result.heatmap_jpeg = buffer.getvalue()
            result.heatmap_style = style
            result.timings_ms["heatmap"] = (time.perf_counter() - started) * 1000
        except Exception:  # a broken image still gets its style shown
            logger.exception("upload %s: no heat map", upload.pk)
    return result


# What the upsert rewrites: every column but the key and when the row was first written.
_INSIGHT_FIELDS = [f.name for f in UploadInsight._meta.concrete_fields if not f.primary_key and f.name != "created_at"]


def upload_insights_store(*, results: Sequence[tuple[Any, InsightResult]]) -> None:
    """Replace the insight rows of these uploads (call inside the analyse step's transaction): their
    files are written, then one `INSERT … ON CONFLICT DO UPDATE` for the whole batch (it was a
    savepoint, a select and two or three writes per upload, issue 19). The files they replace are
    deleted once the transaction commits, so a rolled-back step leaves the old ones in place."""
    if not results:
        return
    old = {
        row[0]: row[1:]
        for row in UploadInsight.objects.filter(upload__in=[u for u, _ in results]).values_list(
            "upload_id", "heatmap", "painting"
        )
    }
    rows = []
    for upload, result in results:
        insight = UploadInsight(
            upload=upload,
            palette=result.palette,
            phash=result.phash,
            duplicate_of_id=result.duplicate.artwork_id if result.duplicate else None,
            duplicate_similarity=result.duplicate.similarity if result.duplicate else None,
            duplicate_hash_distance=result.duplicate.hash_distance if result.duplicate else None,
            heatmap_style=result.heatmap_style,
            heatmap_ms=round(result.timings_ms["heatmap"], 2) if "heatmap" in result.timings_ms else None,
            painting_source=result.painting_source,
            painting_corners=result.painting_corners,
            painting_confidence=result.painting_confidence,
            painting_ms=round(result.timings_ms["painting"], 2) if "painting" in result.timings_ms else None,
        )
        for field_name, name, content in (
            ("heatmap", f"heat-{upload.pk}.jpg", result.heatmap_jpeg),
            ("painting", f"painting-{upload.pk}.jpg", result.painting_jpeg),
        ):
            if content:
                getattr(insight, field_name).save(name, ContentFile(content), save=False)
        rows.append(insight)
    UploadInsight.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["upload"], update_fields=_INSIGHT_FIELDS
    )
    replaced = [
        (now.storage, name)
        for insight in rows
        for name, now in zip(old.get(insight.upload_id, ("", "")), (insight.heatmap, insight.painting), strict=True)
        if name and name != now.name
    ]
    if replaced:
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in replaced])


def uploads_excluded_ids(*, upload_ids: Sequence[int]) -> dict[int, list[int]]:
    """Catalogue works to keep out of each upload's similar works: the one it is a copy of."""
    rows = UploadInsight.objects.filter(upload_id__in=list(upload_ids), duplicate_of__isnull=False)
    excluded: dict[int, list[int]] = {}
    for upload_id, work_id in rows.values_list("upload_id", "duplicate_of_id"):
        excluded.setdefault(upload_id, []).append(work_id)
    return excluded


def upload_insight_files(*, upload_id: int) -> list[str]:
    """Stored files of the upload's insight (the heat map), for deleting with the upload."""
    rows = UploadInsight.objects.filter(upload_id=upload_id).values_list("heatmap", "painting")
    return [name for row in rows for name in row if name]


def upload_deleting(*, upload_id: int) -> None:
    """The handler of gallery.handover.upload_deleting: the heat map file goes once the deletion commits."""
    names = upload_insight_files(upload_id=upload_id)
    storage = UploadInsight._meta.get_field("heatmap").storage
    if names:
        transaction.on_commit(lambda: [storage.delete(name) for name in names])


def upload_insight_get(*, upload_id: int) -> UploadInsight | None:
    """The upload's insight with its duplicate's painter and style loaded, or None before the analysis."""
    return (
        UploadInsight.objects.select_related("duplicate_of__artist", "duplicate_of__style")
        .filter(upload_id=upload_id)
        .first()
    )
