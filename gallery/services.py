"""Writes of the catalogue (import, painters and influences) and of uploads, as records.

What these writes start above them goes through `gallery.handover` (imports run downwards only):
an influence or painter edit is mirrored into Neo4j, a stored upload is analysed, a deleted upload's
derived files go with it. The import writes rows only; its callers refresh the Neo4j mirror
(`recommender.influence_graph.graph_sync`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.text import slugify
from PIL import Image, UnidentifiedImageError

from . import handover
from .catalogue_folder import CatalogueFolder
from .fetch import fetch_image_bytes
from .images import ImageRejected, normalise_image
from .models import Artist, Artwork, Genre, Influence, Style, Upload
from .styles import STYLE_DESCRIPTIONS

logger = logging.getLogger(__name__)

ARTWORK_BATCH = 500


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (row id, reason)
    artists: int = 0
    influences: int = 0


def _int_or_none(value: str) -> int | None:
    value = (value or "").strip()
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


def _unique_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:190] or "artist"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def styles_ensure_defaults() -> None:
    """Create the styles the catalogue and model know (gallery.styles), keeping curators' edits."""
    existing = set(Style.objects.values_list("name", flat=True))
    Style.objects.bulk_create(
        Style(name=name, slug=slugify(name), description=text)
        for name, text in STYLE_DESCRIPTIONS.items()
        if name not in existing
    )


def artists_import(*, rows: list[dict[str, str]]) -> dict[str, Artist]:
    """Create or update painters from artists.csv rows; returns all painters by name."""
    existing = {a.name: a for a in Artist.objects.all()}
    taken = {a.slug for a in existing.values()}
    to_create, to_update = [], []
    for row in rows:
        name = (row.get("name") or "").strip()
        if not name:
            continue
        values = {
            "birth_year": _int_or_none(row.get("birth_year", "")),
            "death_year": _int_or_none(row.get("death_year", "")),
            "nationality": (row.get("nationality") or "")[:200],
            "movements": (row.get("movements") or "")[:500],
        }
        artist = existing.get(name)
        if artist is None:
            artist = Artist(name=name, slug=_unique_slug(name, taken), **values)
            existing[name] = artist
            to_create.append(artist)
        elif any(getattr(artist, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(artist, key, value)
            to_update.append(artist)
    Artist.objects.bulk_create(to_create)
    Artist.objects.bulk_update(to_update, ["birth_year", "death_year", "nationality", "movements"])
    return {a.name: a for a in Artist.objects.all()}


def influences_import(*, rows: list[dict[str, str]], artists: dict[str, Artist]) -> list[Influence]:
    edges = []
    for row in rows:
        a, b = artists.get(row.get("artist", "")), artists.get(row.get("influenced_by", ""))
        if a is None or b is None or a == b:
            logger.warning("influence skipped, unknown painter: %s ← %s", row.get("artist"), row.get("influenced_by"))
            continue
        edges.append(Influence(artist=a, influencer=b, source=(row.get("source") or "")[:500]))
    Influence.objects.bulk_create(edges, ignore_conflicts=True)
    return edges


def _check_image(path: Path) -> str | None:
    """Reason the file cannot be used as a catalogue image, or None when it is fine."""
    if not path.is_file():
        return "missing file"
    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:  # verify() leaves the image unusable; decode fully once more
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        return f"unreadable image ({exc.__class__.__name__})"
    return None


def catalogue_import(
    *,
    directory: Path,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a WikiArt-format catalogue folder. Idempotent: rows are keyed on their source id.

    Rows with a missing file, an unknown style or painter, or an unreadable image are reported in
    `ImportReport.rejected` and skipped; the import goes on. Neo4j is not touched: the caller syncs
    the mirror afterwards (one MERGE of everything, `recommender.influence_graph.graph_sync`).
    """
    directory = Path(directory)
    report = ImportReport()
    folder = CatalogueFolder(directory)
    artist_rows, influence_rows, rows = folder.artists().rows, folder.influences().rows, folder.catalogue().rows
    if limit is not None:
        rows = rows[:limit]

    with transaction.atomic():
        styles_ensure_defaults()
        artists = artists_import(rows=artist_rows)
        influences_import(rows=influence_rows, artists=artists)
    report.artists = len(artists)
    report.influences = Influence.objects.count()

    styles = {s.name: s for s in Style.objects.all()}
    genres = {g.name: g for g in Genre.objects.all()}
    existing = {a.source_id: a for a in Artwork.objects.filter(source_id__in=[r.get("id", "") for r in rows])}
    pending: list[Artwork] = []
    changed: list[Artwork] = []

    for row in rows:
        source_id = (row.get("id") or "").strip()
        reason = None
        style = styles.get((row.get("style") or "").strip())
        artist_name = (row.get("artist") or "").strip()
        if not source_id:
            reason = "missing id"
        elif style is None:
            reason = f"unknown style {row.get('style')!r}"
        elif artist_name and artist_name not in artists:
            reason = f"unknown painter {artist_name!r}"
        values = {}
        if reason is None:
            genre_name = (row.get("genre") or "").strip()
            if genre_name and genre_name not in genres:
                genres[genre_name] = Genre.objects.get_or_create(
                    name=genre_name, defaults={"slug": slugify(genre_name)}
                )[0]
            values = {
                "title": (row.get("title") or "")[:300],
                "artist": artists.get(artist_name) if artist_name else None,
                "style": style,
                "genre": genres.get(genre_name) if genre_name else None,
                "year": _int_or_none(row.get("year", "")),
                "source": (row.get("source") or "")[:500],
            }
            artwork = existing.get(source_id)
            if artwork is not None:
                if any(getattr(artwork, k) != v for k, v in values.items()):
                    for key, value in values.items():
                        setattr(artwork, key, value)
                    changed.append(artwork)
            else:
                reason = _check_image(directory / (row.get("file") or ""))
                if reason is None:
                    pending.append(_new_artwork(source_id, directory / row["file"], values))
        if reason is not None:
            report.rejected.append((source_id or "?", reason))
        if len(pending) >= ARTWORK_BATCH:
            report.created += len(Artwork.objects.bulk_create(pending))
            pending = []
        if progress:
            progress(1)
    report.created += len(Artwork.objects.bulk_create(pending))
    Artwork.objects.bulk_update(changed, ["title", "artist", "style", "genre", "year", "source"], batch_size=500)
    report.updated = len(changed)
    return report


def _new_artwork(source_id: str, path: Path, values: dict) -> Artwork:
    name = f"artworks/{source_id}{path.suffix.lower() or '.jpg'}"
    if not default_storage.exists(name):
        with path.open("rb") as handle:
            name = default_storage.save(name, File(handle, name=path.name))
    artwork = Artwork(source_id=source_id, **values)
    artwork.image.name = name
    return artwork


def influence_save(*, influence: Influence) -> Influence:
    """Save an influence edit; the Neo4j mirror follows once the transaction commits."""
    previous = None
    if influence.pk:
        previous = Influence.objects.filter(pk=influence.pk).values_list("artist__slug", "influencer__slug").first()
    with transaction.atomic():
        influence.full_clean()
        influence.save()
        artist, influencer = influence.artist, influence.influencer
        edge = (artist.slug, influencer.slug)
        handover.painters_changed(
            change=handover.PainterChange(
                artists=[(artist.slug, artist.name), (influencer.slug, influencer.name)],
                influences=[edge],
                influences_removed=[previous] if previous and previous != edge else [],
            )
        )
    return influence


def influence_delete(*, influence: Influence) -> None:
    keys = (influence.artist.slug, influence.influencer.slug)
    with transaction.atomic():
        influence.delete()
        handover.painters_changed(change=handover.PainterChange(influences_removed=[keys]))


def artist_save(*, artist: Artist) -> Artist:
    with transaction.atomic():
        artist.save()
        handover.painters_changed(change=handover.PainterChange(artists=[(artist.slug, artist.name)]))
    return artist


def artist_delete(*, artist: Artist) -> None:
    key = artist.slug
    with transaction.atomic():
        artist.delete()
        handover.painters_changed(change=handover.PainterChange(artists_removed=[key]))


# --- Uploads -----------------------------------------------------------------------------------


def upload_create(*, owner, image_file=None, url: str = "", artist_hint: str = "") -> Upload:
    """Validate and store a user's image, then queue its analysis once the row is committed.

    Raises ImageRejected (nothing is stored then). Exactly one of image_file / url is given.
    """
    if bool(image_file) == bool(url):
        raise ImageRejected("Send either an image file or an image URL.")
    if url:
        data, original_name = fetch_image_bytes(url)
    else:
        data, original_name = image_file, getattr(image_file, "name", "") or ""
    clean = normalise_image(data)
    with transaction.atomic():
        upload = Upload(
            owner=owner,
            original_filename=Path(original_name).name[:255],
            source_url=url[:2000],
            artist_hint=artist_hint.strip()[:200],
        )
        upload.image.save(clean.name, clean, save=False)
        upload.save()
        # The analysis belongs to the recommender (recommender.pipeline); a broker outage leaves
        # the upload queued for the sweep to send again.
        handover.upload_created(upload_id=upload.pk)
    return upload


def upload_delete(*, upload: Upload) -> None:
    """Delete an upload with its results, its stored image and its derived files (the heat map)."""
    name, storage = upload.image.name, upload.image.storage
    with transaction.atomic():
        handover.upload_deleting(upload_id=upload.pk)
        upload.delete()
        if name:
            transaction.on_commit(lambda: storage.delete(name))
