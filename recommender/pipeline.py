"""The upload pipeline's steps: analyse (classify + embed, in batches) → match; re-analyse.

Each step runs under a lease on the upload row (`recommender.leases`: claim, write only while
held, give back, fail, sweep); `recommender.tasks` claims a step and calls it. Pages and the API
only read the rows the steps leave behind. A new step (e.g. one before the analysis) is one more
function here taking `upload_id` and `token`, claimed by its own task in `recommender.tasks`.

**Batching.** The worker analyses the uploads that wait together: `upload_analyse_waiting` adds to
the upload its message claimed every other upload still queued with a free lease (up to
settings.ANALYSE_BATCH_MAX, waiting at most settings.ANALYSE_BATCH_WAIT_MS for more when the worker
is busy), under the same token, and `uploads_analyse` runs one forward pass for all of them. Each
row keeps its own lease rules; an upload whose image fails is failed alone. A batch-mate's own
message later finds it analysed (the analysis claim needs no embedding yet, or its own token) and
goes on to matching.

numpy and TensorFlow are imported inside `uploads_analyse` only: the web process imports this module
(re-analyse) and must not load them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from gallery import handover
from gallery.models import Match, Prediction, Style, Upload
from gallery.selectors import artist_from_hint

from . import insights, leases
from .duplicates import CANDIDATES, candidate_hashes
from .ranking import RankingConfig, similar_works
from .versions import active_style_model

logger = logging.getLogger(__name__)

RESULT_COUNT = 10
TOP_STYLES_KEPT = 13  # every class's probability is kept; pages show the top few
# What the analysis and the match step write on the upload row.
ANALYSIS_FIELDS = ["embedding", "model_version", "stage", "progress", "claim_token", "lease_expires_at", "updated_at"]
MATCH_FIELDS = [
    "query_artist",
    "influence_skipped",
    "status",
    "stage",
    "progress",
    "error",
    "finished_at",
    "claim_token",
    "lease_expires_at",
    "updated_at",
]


def upload_analyse(*, upload_id: int, token: str) -> bool:
    """Classify the style and compute the embedding in one forward pass; replaces earlier results.

    Returns False (and writes nothing) when the lease was lost meanwhile; an error is raised.
    """
    return upload_id in uploads_analyse(upload_ids=[upload_id], token=token)


class Reusable(NamedTuple):
    """What a batch's match step reuses from its analysis: the embedding, its nearest works (closest
    first), and whether those are every embedded work (fewer came back than were asked for)."""

    embedding: Any
    nearest: list
    complete: bool


Known = dict[int, Reusable]


def upload_analyse_waiting(
    *,
    upload_id: int,
    token: str,
    fail: Callable[[int, Exception], None],
    retry_on: tuple[type[BaseException], ...] = (),
) -> Known:
    """The worker's analysis step: `upload_id` (claimed under `token`) and the uploads waiting beside
    it, in one forward pass. Returns the uploads whose results were stored, with what their match
    step can reuse (`uploads_match`'s `known`).

    An idle worker analyses a lone upload at once. When others wait (the worker is busy), it waits up
    to settings.ANALYSE_BATCH_WAIT_MS for more, to fill a batch of settings.ANALYSE_BATCH_MAX. An
    error of one upload (`fail(upload_id, exc)`) leaves the others alone; an error in `retry_on`, or
    one of the whole batch, gives the batch-mates' leases back (their own messages take them) and is
    raised, so the task retries its own upload.
    """
    mates = leases.uploads_claim_waiting(token=token, limit=settings.ANALYSE_BATCH_MAX - 1, exclude=[upload_id])
    ids = [upload_id, *mates]
    if len(ids) > 1:
        deadline = time.monotonic() + settings.ANALYSE_BATCH_WAIT_MS / 1000
        while len(ids) < settings.ANALYSE_BATCH_MAX and time.monotonic() < deadline:
            time.sleep(min(0.005, max(deadline - time.monotonic(), 0)))
            ids += leases.uploads_claim_waiting(token=token, limit=settings.ANALYSE_BATCH_MAX - len(ids), exclude=ids)
    if len(ids) > 1:
        logger.info("analysing %s uploads in one batch", len(ids))
    try:
        return uploads_analyse(upload_ids=ids, token=token, fail=fail, retry_on=retry_on)
    except BaseException:
        try:
            leases.uploads_release(upload_ids=ids[1:], token=token)
        except Exception:  # the database itself may be what failed: the leases then expire, the sweep re-sends
            logger.exception("could not give back the leases of upload %s's batch-mates", upload_id)
        raise


def uploads_analyse(
    *,
    upload_ids: Sequence[int],
    token: str,
    fail: Callable[[int, Exception], None] | None = None,
    retry_on: tuple[type[BaseException], ...] = (),
) -> Known:
    """Analyse uploads claimed under `token` with one forward pass of the active style model; each
    upload's results replace its earlier ones. Returns the uploads whose results were stored, with
    their embeddings and nearest works (an upload whose lease was lost meanwhile writes nothing).

    Without `fail`, any error is raised. With it, an error of one upload (unreadable image, deleted
    row) calls `fail(upload_id, exc)` and the others go on; errors in `retry_on` are always raised.
    The batch gives each upload the same probabilities and embedding as a pass of its own (the
    network has no batch-dependent layer at inference).
    """
    # heavy: numpy (and TensorFlow, loaded by the model): kept out of the web process, which imports
    # this module for re-analyse.
    import numpy as np

    from .framing import Framing, frame_image
    from .style_vote import catalogue_neighbours, voted_probabilities

    def failed(upload_id: int, exc: Exception) -> None:
        if fail is None or isinstance(exc, retry_on):
            raise exc
        fail(upload_id, exc)

    uploads = Upload.objects.defer("embedding").in_bulk(list(upload_ids))
    errors: dict[int, Exception] = {}

    def decode(upload_id: int) -> Framing | None:
        # First of all: which part of the image is the painting (a wall photo's straightened painting,
        # the person's corners, or the whole image); the model and the insights all read that.
        try:
            upload = uploads.get(upload_id)
            if upload is None:
                raise Upload.DoesNotExist(f"upload {upload_id} was deleted")
            with upload.image.open("rb") as handle:
                return frame_image(handle, upload.corners_requested)
        except Exception as exc:  # kept for this upload alone; `failed` decides below
            errors[upload_id] = exc
            return None

    # Images decode and are framed in two threads (Pillow and OpenCV release the GIL); a lone upload
    # on an idle worker in this one, since starting a thread costs more than it saves then.
    # The floor of an upload's cost (issue 19): its decode and its share of the pass, as CPU time of
    # this process (all its threads: the decode pool's, TensorFlow's), logged for bench_throughput.
    started = time.process_time()
    if len(upload_ids) == 1:
        decoded = [(upload_ids[0], decode(upload_ids[0]))]
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            decoded = list(zip(upload_ids, pool.map(decode, upload_ids), strict=True))
    for upload_id, exc in errors.items():
        failed(upload_id, exc)
    ready = [(upload_id, framing) for upload_id, framing in decoded if upload_id not in errors]
    if not ready:
        return {}
    decode_cpu = time.process_time() - started
    # The active version (recorded in the database), so every worker host flips with a switch.
    model = active_style_model()
    started = time.process_time()
    # Probabilities, embeddings and the heat maps of the top styles in one pass.
    analysis = model.analyse(np.stack([framing.pixels for _, framing in ready]))
    logger.info(
        "analysed %s uploads: decode and frame %.1f ms, forward pass %.1f ms of CPU",
        len(ready),
        decode_cpu * 1000,
        (time.process_time() - started) * 1000,
    )
    # The answer mixes in the styles of the nearest catalogue works; the heat map explains the network's own top.
    # One nearest-works query per upload serves the vote, the duplicate check and the batch's match
    # step (its candidates, with one to spare for the work the upload may be a copy of).
    asked = max(CANDIDATES, RankingConfig.candidates + 1)
    neighbours = catalogue_neighbours(model=model, embeddings=analysis.embeddings, at_least=asked)
    probs = voted_probabilities(
        model=model, probs=analysis.probs, embeddings=analysis.embeddings, neighbours=neighbours
    )
    hashes = candidate_hashes(neighbours)  # the duplicate check's, for the whole batch at once
    computed = []
    for n, (upload_id, framing) in enumerate(ready):
        try:
            # Palette, "already in the catalogue" and the heat map of the network's top style.
            insight = insights.upload_insight_compute(
                upload=uploads[upload_id],
                framing=framing,
                embedding=analysis.embeddings[n],
                neighbours=neighbours[n],
                hashes=hashes,
                heat=None if analysis.heatmaps is None else analysis.heatmaps[n],
                style=model.classes[int(analysis.probs[n].argmax())],
            )
        except Exception as exc:  # raised again by `failed` unless it concerns this upload alone
            failed(upload_id, exc)
            continue
        reusable = Reusable(analysis.embeddings[n], neighbours[n], complete=len(neighbours[n]) < asked)
        computed.append(_Analysed(upload_id, probs[n], reusable, insight))
    return _analyses_store(computed, token=token, model=model)


@dataclass
class _Analysed:
    upload_id: int
    probs: Any
    reusable: Reusable
    insight: insights.InsightResult


def _analyses_store(computed: list[_Analysed], *, token: str, model: Any) -> Known:
    """Write the batch's predictions, embeddings and insights in one transaction, a statement per
    step for the whole batch (it was a transaction of eight or so per upload, issue 19), for the
    uploads `token` still holds; one whose lease was lost meanwhile writes nothing."""
    if not computed:
        return {}
    styles = {s.name: s for s in Style.objects.filter(name__in=model.classes)}
    with transaction.atomic():
        held = leases.uploads_leased([a.upload_id for a in computed], token)
        for lost in sorted({a.upload_id for a in computed} - held.keys()):
            logger.warning("upload %s: lease lost during analysis; another worker has the step", lost)
        mine = [a for a in computed if a.upload_id in held]
        Prediction.objects.filter(upload_id__in=held).delete()  # idempotent re-run
        Prediction.objects.bulk_create(
            Prediction(
                upload=held[a.upload_id],
                style=styles[model.classes[i]],
                probability=float(a.probs[i]),
                rank=rank,
                model_version=model.version,
            )
            for a in mine
            for rank, i in enumerate(sorted(range(len(a.probs)), key=lambda i: -a.probs[i])[:TOP_STYLES_KEPT], 1)
            if model.classes[i] in styles
        )
        for a in mine:
            upload = held[a.upload_id]
            upload.embedding = a.reusable.embedding
            upload.model_version = model.version
            upload.stage = Upload.Stage.MATCHING
            upload.progress = 60
            upload.claim_token, upload.lease_expires_at = "", None  # step done: the match step claims next
            upload.save(update_fields=ANALYSIS_FIELDS)
        insights.upload_insights_store(results=[(held[a.upload_id], a.insight) for a in mine])
    return {a.upload_id: a.reusable for a in mine}


def upload_match(*, upload_id: int, token: str) -> bool:
    """Find similar catalogue works (influence-aware) and finish the upload; replaces earlier matches.

    Returns False (and writes nothing) when the lease was lost meanwhile.
    """
    return upload_id in uploads_match(upload_ids=[upload_id], token=token)


def uploads_match(*, upload_ids: Sequence[int], token: str, known: Known | None = None) -> list[int]:
    """Match uploads analysed and claimed under `token` and finish them, writing every one's matches
    in one transaction (issue 19: it was a transaction and some twelve statements per upload).
    `known`: per upload, the embedding and nearest works the analysis of this batch had, which
    saves reading the embedding and a second nearest-works query. Returns the ids finished (an
    upload whose lease was lost meanwhile writes nothing); an error of one upload is raised."""
    known = known or {}
    rows = Upload.objects.filter(pk__in=list(upload_ids))
    if all(upload_id in known for upload_id in upload_ids):
        rows = rows.defer("embedding")
    uploads = rows.in_bulk()
    excluded = insights.uploads_excluded_ids(upload_ids=list(uploads))  # the works they are copies of
    rankings = {}
    for upload_id in upload_ids:
        if upload_id not in uploads:
            raise Upload.DoesNotExist(f"upload {upload_id} was deleted")
        reused = known.get(upload_id)
        embedding = reused.embedding if reused else uploads[upload_id].embedding
        if embedding is None:
            raise ValueError("upload has no embedding; the analysis step did not run")
        rankings[upload_id] = similar_works(
            embedding,
            query_artist=artist_from_hint(uploads[upload_id].artist_hint),
            k=RESULT_COUNT,
            exclude_ids=excluded.get(upload_id, []),
            nearest=reused and reused.nearest,
            nearest_complete=bool(reused and reused.complete),
        )
    with transaction.atomic():
        held = leases.uploads_leased(upload_ids, token)
        for lost in sorted(set(upload_ids) - held.keys()):
            logger.warning("upload %s: lease lost during matching; another worker has the step", lost)
        Match.objects.filter(upload_id__in=held).delete()
        Match.objects.bulk_create(
            Match(upload=upload, **m.as_row()) for upload in held.values() for m in rankings[upload.pk].matches
        )
        now = timezone.now()
        for upload in held.values():
            upload.query_artist = rankings[upload.pk].query_artist
            upload.influence_skipped = rankings[upload.pk].influence_skipped
            upload.status = Upload.Status.DONE
            upload.stage = Upload.Stage.DONE
            upload.progress = 100
            upload.error = ""
            upload.finished_at = now
            upload.claim_token, upload.lease_expires_at = "", None
            upload.save(update_fields=MATCH_FIELDS)
    return list(held)


_KEEP: Any = object()


def upload_reanalyse(*, upload: Upload, corners_requested: list | None = _KEEP) -> Upload:
    """A new upload of the same image, analysed with the active model; the old one keeps its results.

    `corners_requested` says where the painting is (gallery.corners: four [x, y] fractions, [] for the
    whole photo, None to find it); left out, the new upload keeps the old one's. The stored image is
    copied (not shared), so deleting either upload never breaks the other.
    """
    with upload.image.open("rb") as handle, transaction.atomic():
        again = Upload(
            owner=upload.owner,
            original_filename=upload.original_filename,
            source_url=upload.source_url,
            artist_hint=upload.artist_hint,
            corners_requested=upload.corners_requested if corners_requested is _KEEP else corners_requested,
        )
        again.image.save(upload.image.name.rsplit("/", 1)[-1], File(handle), save=False)
        again.save()
        handover.upload_created(upload_id=again.pk)
    return again
