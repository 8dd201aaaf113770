"""Time the style model on this machine: bare forward pass vs the full StyleModel path.

    python bench/bench_model.py [--artifact DIR] [--data CATALOGUE_DIR] [--n 256]

* bare forward: the artefact's Keras model called through a tf.function on preloaded tensors;
* full path: JPEG decode + preprocess (recommender.ml.preprocess) + StyleModel.predict_and_embed,
  at batch 1 and batch 32;
* embedding throughput over N catalogue images including decoding (decode in a thread pool,
  overlapping inference: StyleModel.predict_and_embed_files).

Targets: full path within 1.3x of the bare forward pass; >= 40 images/s including decoding.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from recommender.ml.preprocess import load_batch, load_image  # noqa: E402
from recommender.ml.style_model import DEFAULT_ARTIFACT_DIR, StyleModel  # noqa: E402


def timed(fn: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``repeats`` calls (after one untimed warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifact", type=Path, default=DEFAULT_ARTIFACT_DIR)
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("ARTSITE_CATALOGUE_DIR", REPO.parent / "shared/data/catalogue")),
    )
    ap.add_argument("--n", type=int, default=256, help="images for the throughput run")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    paths = sorted((args.data / "images").glob("*.jpg"))[: max(args.n, 32)]
    if len(paths) < 32:
        sys.exit(f"need at least 32 images in {args.data / 'images'}")

    t0 = time.perf_counter()
    import keras
    import tensorflow as tf

    t_import = time.perf_counter() - t0
    model = StyleModel(args.artifact)
    t0 = time.perf_counter()
    model.warmup()
    t_load = time.perf_counter() - t0
    print(f"artefact {model.artifact_dir} (version {model.version}), {len(model.classes)} classes")
    print(f"import tensorflow {t_import:.1f} s; load + first trace {t_load:.1f} s; {os.cpu_count()} CPU cores")

    # Bare forward pass: the same Keras file through a tf.function on preloaded tensors.
    bare_model = keras.models.load_model(model.artifact_dir / "model.keras", compile=False)
    bare = tf.function(
        lambda x: bare_model(x, training=False),
        input_signature=[tf.TensorSpec([None, 224, 224, 3], tf.float32)],
    )
    x32 = tf.constant(load_batch(paths[:32]))
    x1 = x32[:1]
    r = args.repeats
    bare1 = timed(lambda: bare(x1), r * 4)
    bare32 = timed(lambda: bare(x32), r) / 32

    # Full StyleModel path from JPEG files.
    it1 = iter(paths * 100)
    full1 = timed(lambda: model.predict_and_embed(load_image(next(it1))[None]), r * 4)
    full32 = timed(lambda: model.predict_and_embed(load_batch(paths[:32])), r) / 32
    full32p = timed(lambda: model.predict_and_embed_files(paths[:64], batch_size=32), r) / 64
    decode = timed(lambda: load_batch(paths[:32]), r) / 32

    print()
    print(f"{'per image (ms)':<46}{'batch 1':>9}{'batch 32':>10}")
    print(f"{'bare forward (tf.function, preloaded tensor)':<46}{bare1 * 1e3:>9.1f}{bare32 * 1e3:>10.1f}")
    print(f"{'full path (decode+preprocess+predict_and_embed)':<46}{full1 * 1e3:>9.1f}{full32 * 1e3:>10.1f}")
    print(f"{'full path, decode overlapped (thread pool)':<46}{'':>9}{full32p * 1e3:>10.1f}")
    print(f"{'  decode + preprocess alone':<46}{'':>9}{decode * 1e3:>10.1f}")
    print(
        f"ratio full/bare: batch 1 {full1 / bare1:.2f}x, batch 32 {full32 / bare32:.2f}x, "
        f"batch 32 overlapped {full32p / bare32:.2f}x (target <= 1.3x)"
    )

    n = len(paths)
    t0 = time.perf_counter()
    probs, emb = model.predict_and_embed_files(paths, batch_size=32, workers=2)
    dt = time.perf_counter() - t0
    norms = np.linalg.norm(emb, axis=1)
    print(
        f"embedding throughput incl. JPEG decoding: {n} images in {dt:.2f} s = "
        f"{n / dt:.0f} images/s (target >= 40); emb {emb.shape} {emb.dtype}, "
        f"|e| in [{norms.min():.3f}, {norms.max():.3f}], probs {probs.shape}"
    )
    try:
        load = os.getloadavg()
        print(f"load average during the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    except OSError:
        pass


if __name__ == "__main__":
    main()
