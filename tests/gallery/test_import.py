"""Catalogue import into the real PostgreSQL and Neo4j, from a slice of the real demo catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from gallery.catalogue_folder import Table, read_table, write_table
from gallery.models import Artist, Artwork, Influence
from gallery.services import catalogue_import
from recommender.influence_graph import graph_sync

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = settings.DEMO_CATALOGUE_DIR


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    table = read_table(path)
    return table.fields, table.rows


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    write_table(path, Table(fields, rows))


@pytest.fixture
def slice_dir(tmp_path: Path) -> Path:
    """Eight real paintings with painters, plus three bad rows: missing file, unknown style, broken JPEG."""
    fields, rows = _read(DEMO / "catalogue.csv")
    good = [r for r in rows if r["artist"]][:8]
    (tmp_path / "images").mkdir()
    for row in good:
        shutil.copy(DEMO / row["file"], tmp_path / row["file"])
    base = dict(good[0])
    bad = [
        {**base, "id": "x-missing", "file": "images/nope.jpg"},
        {**base, "id": "x-style", "style": "Vaporwave"},
        {**base, "id": "x-broken", "file": "images/broken.jpg"},
    ]
    (tmp_path / "images/broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    _write(tmp_path / "catalogue.csv", fields, good + bad)
    shutil.copy(DEMO / "artists.csv", tmp_path / "artists.csv")
    shutil.copy(DEMO / "influences.csv", tmp_path / "influences.csv")
    return tmp_path


def test_import_counts_rejections_and_graph(slice_dir: Path, graph_clean) -> None:
    report = catalogue_import(directory=slice_dir)
    assert graph_clean.counts() == (0, 0)  # records only: the caller mirrors them
    graph_sync()

    assert report.created == 8
    assert Artwork.objects.count() == 8
    reasons = dict(report.rejected)
    assert reasons["x-missing"] == "missing file"
    assert reasons["x-style"] == "unknown style 'Vaporwave'"
    assert reasons["x-broken"].startswith("unreadable image")
    _, artist_rows = _read(slice_dir / "artists.csv")
    _, edge_rows = _read(slice_dir / "influences.csv")
    assert Artist.objects.count() == len(artist_rows)
    assert Influence.objects.count() == len(edge_rows)
    # Every painter and edge is in Neo4j under the test label.
    assert graph_clean.counts() == (len(artist_rows), len(edge_rows))
    artwork = Artwork.objects.select_related("style", "artist").first()
    assert artwork.image.storage.exists(artwork.image.name)


def test_import_is_idempotent(slice_dir: Path, graph_clean) -> None:
    first = catalogue_import(directory=slice_dir)
    graph_sync()
    second = catalogue_import(directory=slice_dir)
    graph_sync()

    assert first.created == 8
    assert second.created == 0 and second.updated == 0
    assert Artwork.objects.count() == 8
    assert graph_clean.counts() == first_counts(slice_dir)


def first_counts(directory: Path) -> tuple[int, int]:
    return len(_read(directory / "artists.csv")[1]), len(_read(directory / "influences.csv")[1])


def test_reimport_updates_changed_metadata(slice_dir: Path, graph_clean) -> None:
    catalogue_import(directory=slice_dir)
    fields, rows = _read(slice_dir / "catalogue.csv")
    rows[0]["title"] = "A corrected title"
    _write(slice_dir / "catalogue.csv", fields, rows)

    report = catalogue_import(directory=slice_dir)

    assert report.updated == 1
    assert Artwork.objects.get(source_id=rows[0]["id"]).title == "A corrected title"


def test_command_reports_rejections_and_limit(slice_dir: Path, graph_clean, capsys) -> None:
    call_command("import_catalogue", str(slice_dir), "--limit", "3", verbosity=0)
    out, err = capsys.readouterr()
    assert Artwork.objects.count() == 3
    assert "3 created" in out
    assert "influence graph synced" in out

    call_command("import_catalogue", str(slice_dir), verbosity=0)
    out, err = capsys.readouterr()
    assert Artwork.objects.count() == 8
    assert "rejected x-missing: missing file" in err


def test_if_empty_skips_a_filled_catalogue(slice_dir: Path, graph_clean, capsys) -> None:
    call_command("import_catalogue", str(slice_dir), "--limit", "2", "--if-empty", verbosity=0)
    assert Artwork.objects.count() == 2
    call_command("import_catalogue", str(slice_dir), "--if-empty", verbosity=0)
    assert Artwork.objects.count() == 2
    assert "already imported" in capsys.readouterr().out
