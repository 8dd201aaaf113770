"""``manage.py train_style_model``: train the art-style classifier and write a versioned artefact.

A thin wrapper around :func:`recommender.training.train_style_model`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recommender.ml.style_model import ARTIFACTS_ROOT


def _default_data_dir() -> Path:
    configured = getattr(settings, "CATALOGUE_DIR", None)
    if configured and Path(configured).is_dir():
        return Path(configured)
    return Path(settings.BASE_DIR).parent / "shared" / "data" / "catalogue"


class Command(BaseCommand):
    help = (
        "Fine-tune the EfficientNet-Lite0 style classifier on the catalogue, evaluate it once on "
        "the held-back test part and write recommender/artifacts/style/<version>/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        from recommender.training import TrainConfig

        parser.add_argument("--data", type=Path, default=None, help="catalogue dir (csv + images)")
        parser.add_argument("--epochs", type=int, default=TrainConfig.epochs, help="fine-tuning epochs")
        parser.add_argument(
            "--head-epochs", type=int, default=TrainConfig.head_epochs, help="epochs of the frozen-backbone head phase"
        )
        parser.add_argument(
            "--fine-tune-blocks",
            type=int,
            default=TrainConfig.fine_tune_blocks,
            help="top MBConv blocks to fine-tune (1..15)",
        )
        parser.add_argument(
            "--views",
            type=int,
            default=TrainConfig.train_views,
            help="cached views per training image (center + random crops)",
        )
        parser.add_argument("--batch", type=int, default=TrainConfig.batch)
        parser.add_argument("--lr", type=float, default=TrainConfig.lr)
        parser.add_argument("--limit", type=int, default=None, help="use only N paintings (smoke runs)")
        parser.add_argument(
            "--out", type=Path, default=ARTIFACTS_ROOT, help="artefact root; the run writes <out>/<version>/"
        )
        parser.add_argument(
            "--model-version", default=None, help="artefact name (default style-effnetlite0-YYYYMMDD-HHMM)"
        )
        parser.add_argument("--no-activate", action="store_true", help="do not point <out>/CURRENT at the new version")

    def handle(self, *args: Any, **opts: Any) -> None:
        from recommender.training import TrainConfig, train_style_model

        data_dir: Path = opts["data"] or _default_data_dir()
        if not (data_dir / "catalogue.csv").is_file():
            raise CommandError(f"no catalogue.csv in {data_dir}")
        if not 1 <= opts["fine_tune_blocks"] <= 15:
            raise CommandError("--fine-tune-blocks must be in 1..15")
        cfg = TrainConfig(
            data_dir=data_dir,
            out_root=opts["out"],
            epochs=opts["epochs"],
            head_epochs=opts["head_epochs"],
            fine_tune_blocks=opts["fine_tune_blocks"],
            train_views=opts["views"],
            batch=opts["batch"],
            lr=opts["lr"],
            limit=opts["limit"],
            version=opts["model_version"],
            activate=not opts["no_activate"],
        )

        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        out_dir = train_style_model(cfg, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"wrote {out_dir}"))
