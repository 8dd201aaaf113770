"""The one reader (and writer) of the catalogue folder format.

A catalogue folder holds ``catalogue.csv`` (``id,file,title,artist,style,genre,year,source``),
``artists.csv``, ``influences.csv`` and the images named by ``file``. A training pack such as
``shared/data/extra`` uses the same ``catalogue.csv`` columns plus ``format`` and ``same_as`` in a
file of its own name. Empty cells mean unknown, so every value is kept as a string.
Standard library only: the import service, training, evaluation, scripts and tests all use it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

CATALOGUE = "catalogue.csv"
ARTISTS = "artists.csv"
INFLUENCES = "influences.csv"


@dataclass(frozen=True)
class Table:
    """One CSV file: its header and its rows (dicts of strings)."""

    fields: list[str]
    rows: list[dict[str, str]]


def read_table(path: Path) -> Table:
    """Read a CSV with a header row; a missing file is an error the caller decides about."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return Table(list(reader.fieldnames or []), rows)


def write_table(path: Path, table: Table) -> None:
    """Write ``table`` back in the same format (header first, missing cells empty)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=table.fields)
        writer.writeheader()
        writer.writerows(table.rows)


@dataclass(frozen=True)
class CatalogueFolder:
    """A folder in the catalogue format; optional tables read as empty when absent."""

    directory: Path
    catalogue_file: str = CATALOGUE

    def catalogue(self) -> Table:
        return read_table(self.directory / self.catalogue_file)

    def artists(self) -> Table:
        return self._optional(ARTISTS)

    def influences(self) -> Table:
        return self._optional(INFLUENCES)

    def image_path(self, row: dict[str, str]) -> Path:
        return self.directory / row["file"]

    def _optional(self, name: str) -> Table:
        path = self.directory / name
        return read_table(path) if path.is_file() else Table([], [])
