"""``manage.py train_style_model``: train the art-style classifier and write a versioned artefact.

Every field of :class:`recommender.training.loop.TrainConfig` is a flag, so the documented command
reproduces the shipped model. The test parts are scored only with ``--score-test``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

# Fields set from other flags (paths with defaults from settings) or not meant for the command line.
_SPECIAL = {
    "data_dir",
    "extra_dir",
    "out_root",
    "backbone_path",
    "cache_dir",
    "activate",
    "version",
    "score_test",
    "resume",
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


class Command(BaseCommand):
    help = (
        "Fine-tune the EfficientNet-Lite0 style classifier on the catalogue and the training pack, choose on "
        "validation, optionally score the test parts once (--score-test), and write "
        "recommender/artifacts/style/<version>/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # heavy: the training modules import numpy (and TensorFlow when they run); `manage.py help` stays light.
        from recommender.ml.style_model import ARTIFACTS_ROOT
        from recommender.training.cache import DEFAULT_CACHE_DIR
        from recommender.training.loop import TrainConfig

        parser.add_argument("--data", type=Path, default=None, help="catalogue dir (default: settings.CATALOGUE_DIR)")
        parser.add_argument(
            "--extra", type=Path, default=None, help="training pack dir (default: settings.EXTRA_TRAINING_DIR)"
        )
        parser.add_argument("--no-extra", action="store_true", help="train on the catalogue alone")
        parser.add_argument("--out", type=Path, default=ARTIFACTS_ROOT, help="artefact root; writes <out>/<version>/")
        parser.add_argument("--backbone", type=Path, default=None, help="EfficientNet-Lite0 .keras file")
        parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="activation cache (not in git)")
        parser.add_argument(
            "--model-version", default=None, help="artefact name (default style-effnetlite0-YYYYMMDD-HHMM)"
        )
        parser.add_argument("--no-activate", action="store_true", help="do not point <out>/CURRENT at the new version")
        parser.add_argument(
            "--score-test",
            action="store_true",
            help="score the test parts once after choosing on validation (do this for the run you ship)",
        )
        parser.add_argument(
            "--resume",
            action="store_true",
            help="go on with the unfinished run of --model-version from its checkpoint (same flags; --epochs may grow)",
        )
        for field in dataclasses.fields(TrainConfig):
            if field.name in _SPECIAL:
                continue
            kind = int if field.name == "limit" else type(field.default)
            parser.add_argument(_flag(field.name), type=kind, default=field.default, help=f"default {field.default}")

    def handle(self, *args: Any, **opts: Any) -> None:
        from recommender.training.loop import TrainConfig, train_style_model  # heavy: numpy, TensorFlow

        data_dir: Path = opts["data"] or Path(settings.CATALOGUE_DIR)
        if not (data_dir / "catalogue.csv").is_file():
            raise CommandError(f"no catalogue.csv in {data_dir}")
        extra_dir = None if opts["no_extra"] else (opts["extra"] or Path(settings.EXTRA_TRAINING_DIR))
        if extra_dir is not None and not (extra_dir / "extra.csv").is_file():
            raise CommandError(f"no extra.csv in {extra_dir} (pass --no-extra to train without the pack)")
        if not 1 <= opts["fine_tune_blocks"] <= 15:
            raise CommandError("--fine-tune-blocks must be in 1..15")
        knobs = {f.name: opts[f.name] for f in dataclasses.fields(TrainConfig) if f.name not in _SPECIAL}
        cfg = TrainConfig(
            data_dir=data_dir,
            extra_dir=extra_dir,
            out_root=opts["out"],
            backbone_path=opts["backbone"],
            cache_dir=opts["cache_dir"],
            version=opts["model_version"],
            activate=not opts["no_activate"],
            score_test=opts["score_test"],
            resume=opts["resume"],
            **knobs,
        )

        def progress(message: str) -> None:
            self.stdout.write(message)
            self.stdout.flush()

        out_dir = train_style_model(cfg, progress=progress)
        self.stdout.write(self.style.SUCCESS(f"wrote {out_dir}"))
