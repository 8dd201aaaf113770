"""``manage.py train_autoencoder``: train the denoising-autoencoder baseline and write its artefact.

A thin wrapper around :func:`recommender.training.autoencoder.train_autoencoder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommender.ml.autoencoder import ARTIFACTS_ROOT


class Command(BaseCommand):
    help = (
        "Train the convolutional denoising autoencoder (seed similarity method) on the TRAIN part of "
        "the style model's split and write recommender/artifacts/autoencoder/<version>/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, default=None, help="catalogue dir (csv + images)")
        parser.add_argument("--epochs", type=int, default=12)
        parser.add_argument("--limit", type=int, default=None, help="use only N training paintings (smoke runs)")
        parser.add_argument(
            "--out", type=Path, default=ARTIFACTS_ROOT, help="artefact root; the run writes <out>/<version>/"
        )
        parser.add_argument(
            "--max-minutes", type=float, default=9.0, help="stop before an epoch that would end past this budget"
        )
        parser.add_argument("--model-version", default=None, help="artefact version name (default: ae-conv96-<date>)")
        parser.add_argument("--no-activate", action="store_true", help="do not point <out>/CURRENT at the new version")

    def handle(self, *args: Any, **opts: Any) -> None:
        from recommender.training.autoencoder import train_autoencoder  # heavy: numpy, TensorFlow

        data_dir: Path = opts["data"] or Path(settings.CATALOGUE_DIR)
        if not (data_dir / "catalogue.csv").is_file():
            raise CommandError(f"no catalogue.csv in {data_dir}")
        if opts["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")

        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        out_dir = train_autoencoder(
            data_dir,
            opts["out"],
            epochs=opts["epochs"],
            limit=opts["limit"],
            max_minutes=opts["max_minutes"],
            version=opts["model_version"],
            activate=not opts["no_activate"],
            progress=progress,
        )
        self.stdout.write(self.style.SUCCESS(f"wrote {out_dir}"))
