"""Score any style artefact on a split's held-out parts, as the files are, format-neutral and
format-swapped, through the full app path (decode, preprocess, StyleModel); print a markdown table.

    python bench/format_check.py [--style DIR] [--split-from DIR] [--parts val,val_unseen]

``--split-from`` names the artefact whose ``split.json`` picks the images (default: ``--style``'s
own), so an older model can be compared with a newer one on the same paintings;
``--exclude-train-of`` drops the images an older model trained on. Only validation
parts by default: pass ``--parts test,test_unseen`` once, for the model you ship. The numbers
come from the same report code as the training run's model card (``training.loop.report``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from recommender.evaluation import load_split  # noqa: E402
from recommender.ml.loader import iter_batches  # noqa: E402
from recommender.ml.style_model import ARTIFACTS_ROOT, StyleModel, resolve_artifact_dir  # noqa: E402
from recommender.training.data import read_paintings  # noqa: E402
from recommender.training.loop import EVAL_VIEWS, eval_view, report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", type=Path, default=ARTIFACTS_ROOT / "current")
    ap.add_argument("--split-from", type=Path, default=None)
    ap.add_argument("--parts", default="val,val_unseen")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument(
        "--exclude-train-of",
        type=Path,
        default=None,
        help="leave out images in the training part of this artefact's split (to compare an older model fairly)",
    )
    args = ap.parse_args()

    model = StyleModel(args.style)
    split, source = load_split(resolve_artifact_dir(args.split_from or args.style))
    paintings = {p.id: p for p in read_paintings(settings.CATALOGUE_DIR, settings.EXTRA_TRAINING_DIR)}
    classes = model.classes
    excluded: set[str] = set()
    if args.exclude_train_of is not None:
        excluded = set(load_split(resolve_artifact_dir(args.exclude_train_of))[0]["train"])
    print(f"model {model.version}; split {source}\n")
    print("| part | n | top-1 | top-3 | macro-F1 | top-1 neutral | A into B styles, neutral | swap agreement | probe |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for part in args.parts.split(","):
        items = [paintings[i] for i in split[part] if i in paintings and i not in excluded]
        if not items:
            continue
        y = np.array([classes.index(p.style) for p in items])
        probs, emb = {}, None
        t0 = time.perf_counter()
        for v, name in enumerate(EVAL_VIEWS):
            outs = [model.predict_and_embed(x) for _, x in iter_batches(items, lambda p, v=v: eval_view(p, v))]
            probs[name] = np.concatenate([o[0] for o in outs])
            if v == 0:
                emb = np.concatenate([o[1] for o in outs])
        r = report(y, probs, emb, items, classes, full=False)
        flip = r["format_neutral"]["format_a_into_b_styles"]
        probe = r["format_probe"].get("balanced_accuracy")
        print(
            f"| {part} | {len(items)} | {r['original']['top1']:.3f} | {r['original']['top3']:.3f} | "
            f"{r['original']['macro_f1']:.3f} | {r['format_neutral']['top1']:.3f} | "
            f"{'–' if flip is None else f'{flip:.3f}'} | {r['swap_agreement']:.3f} | "
            f"{'–' if probe is None else f'{probe:.3f}'} |",
            flush=True,
        )
        print(f"  ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
