"""Compare the similarity features on held-out paintings; print markdown tables.

    python bench/evaluate.py [--data CATALOGUE_DIR] [--style DIR] [--autoencoder DIR] [--score-test]
                             [--limit N] [--k 10] [--cache-dir /tmp/artsite_eval_cache] [--check-neo4j]

Feature sets:

* ``imagenet``: frozen ImageNet EfficientNet-Lite0 ``avg_pool`` features (the shared backbone);
* ``style``: the fine-tuned style model's embeddings (``recommender/artifacts/style``);
* ``autoencoder``: the denoising autoencoder's bottleneck (``recommender/artifacts/autoencoder``).

Queries are the catalogue paintings of the style model's validation parts (``val`` + ``val_unseen``),
or of its test parts with ``--score-test`` (do that once, for the model you ship); the catalogue
searched is every other catalogue painting (the training pack is never searched). Each query is
embedded twice: as the file is, and format-neutral (``training.augment.format_neutral``). For each
set: precision@k of same style and of same painter (queries with a known painter), plain cosine
order and after influence re-ranking (``recommender.evaluation``), and the style classifier's
top-1/top-3/macro-F1 on the same queries. Features are cached under ``--cache-dir`` (not the repo),
keyed by model version and the ids. ``--limit N`` keeps N queries and 4N catalogue paintings.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from recommender.evaluation import InfluenceGraph, evaluate_retrieval, load_split  # noqa: E402
from recommender.ml.autoencoder import ARTIFACTS_ROOT as AE_ROOT  # noqa: E402
from recommender.ml.loader import iter_batches  # noqa: E402
from recommender.ml.preprocess import load_image, open_rgb, to_model_input  # noqa: E402
from recommender.ml.style_model import ARTIFACTS_ROOT as STYLE_ROOT  # noqa: E402
from recommender.ml.style_model import resolve_artifact_dir  # noqa: E402
from recommender.training.augment import format_neutral  # noqa: E402
from recommender.training.data import read_paintings  # noqa: E402
from recommender.training.network import default_backbone_path  # noqa: E402

Extract = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass
class FeatureSet:
    name: str
    label: str
    version: str
    make: Callable[[], Extract]  # builds the extractor (loads the model) only when needed
    features: np.ndarray | None = None
    probs: np.ndarray | None = None
    extract_s: float = 0.0
    cached: bool = False
    model: Any = None  # the loaded model object, where the bench needs more than features


def imagenet_set() -> FeatureSet:
    path = default_backbone_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]

    def make() -> Extract:
        import keras
        import tensorflow as tf

        backbone = keras.models.load_model(path, compile=False)
        model = keras.Model(backbone.input, backbone.get_layer("avg_pool").output)
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        return lambda x: {"features": fn(x).numpy()}

    return FeatureSet("imagenet", "ImageNet EfficientNet-Lite0 avg_pool (frozen)", f"effnetlite0-{digest}", make)


def style_set(artifact: Path) -> FeatureSet | None:
    from recommender.ml.style_model import StyleModel

    model = StyleModel(artifact)
    if not (model.artifact_dir / "model.keras").is_file():
        print(f"style model: no artefact at {model.artifact_dir}; skipped")
        return None

    def make() -> Extract:
        model.load()

        def run(x: np.ndarray) -> dict[str, np.ndarray]:
            probs, emb = model.predict_and_embed(x)
            return {"features": emb, "probs": probs}

        return run

    return FeatureSet("style", "fine-tuned style model embedding", model.version, make, model=model)


def autoencoder_set(artifact: Path) -> FeatureSet | None:
    from recommender.ml.autoencoder import MODEL_FILE_NAME, AutoencoderEmbedder

    model = AutoencoderEmbedder(artifact)
    if not (model.artifact_dir / MODEL_FILE_NAME).is_file():
        print(f"autoencoder: no artefact at {model.artifact_dir}; skipped")
        return None

    def make() -> Extract:
        model.load()
        return lambda x: {"features": model.embed(x)}

    return FeatureSet("autoencoder", f"denoising autoencoder ({model.pooling} bottleneck)", model.version, make)


def check_autoencoder_split(artifact: Path, queries: list[str]) -> None:
    """Warn when the autoencoder may have trained on query paintings (it must use the same split)."""
    import json

    from recommender.ml.autoencoder import CARD_FILE_NAME
    from recommender.ml.autoencoder import resolve_artifact_dir as resolve_ae_dir

    card_file = resolve_ae_dir(artifact) / CARD_FILE_NAME
    if not card_file.is_file():
        return
    source = json.loads(card_file.read_text(encoding="utf-8")).get("data", {}).get("split", "")
    if not Path(source).is_file():
        print(f"autoencoder: cannot check its training split ({source!r})")
        return
    train = set(json.loads(Path(source).read_text(encoding="utf-8"))["train"])
    seen = len(train & set(queries))
    print(f"autoencoder trained on {source}: {seen} of the {len(queries)} queries in its training part")
    if seen:
        print("WARNING: the autoencoder saw query paintings; its numbers are optimistic")


def neutral_image(path: Path) -> np.ndarray:
    """The format-neutral rendering (``training.augment.format_neutral``) through the app's preprocessing."""
    return to_model_input(format_neutral(open_rgb(path)))


def extract_all(
    sets: list[FeatureSet],
    paths: list[Path],
    key: str,
    cache_dir: Path,
    batch: int,
    decode: Callable[[Path], np.ndarray] = load_image,
) -> float:
    """Fill each set's features from the cache or by one shared decoding pass; returns seconds spent
    waiting for decoded batches (not hidden behind inference)."""
    todo: list[FeatureSet] = []
    for fs in sets:
        file = cache_dir / f"{fs.name}-{fs.version}-{key}.npz"
        if file.is_file():
            data = np.load(file)
            fs.features, fs.probs, fs.cached = data["features"], data.get("probs"), True
        else:
            todo.append(fs)
    if not todo:
        return 0.0
    extractors = {fs.name: fs.make() for fs in todo}
    outs: dict[str, dict[str, list[np.ndarray]]] = {fs.name: {} for fs in todo}
    decode_s = 0.0
    t_all = time.perf_counter()
    t_wait = time.perf_counter()
    for start, x in iter_batches(paths, decode, batch_size=batch):
        decode_s += time.perf_counter() - t_wait
        for fs in todo:
            t0 = time.perf_counter()
            for name, value in extractors[fs.name](x).items():
                outs[fs.name].setdefault(name, []).append(value)
            fs.extract_s += time.perf_counter() - t0
        done = start + len(x)
        if (start // batch) % 50 == 0 or done == len(paths):
            rate = done / (time.perf_counter() - t_all)
            print(f"  features: {done}/{len(paths)} images, {rate:.0f} img/s", file=sys.stderr, flush=True)
        t_wait = time.perf_counter()
    cache_dir.mkdir(parents=True, exist_ok=True)
    for fs in todo:
        arrays = {name: np.concatenate(values) for name, values in outs[fs.name].items()}
        fs.features, fs.probs = arrays["features"], arrays.get("probs")
        np.savez(cache_dir / f"{fs.name}-{fs.version}-{key}.npz", **arrays)
    return decode_s


def check_neo4j(graph: InfluenceGraph, max_hops: int) -> str:
    """Compare the offline BFS path lengths with ``recommender.graph.shortest_paths`` (Neo4j).

    When the app's graph is loaded, the BFS runs over the same edges (the ``Influence`` table that
    Neo4j mirrors) and the coverage of influences.csv is reported; otherwise influences.csv is
    loaded under a scratch label (keys = names) and removed afterwards. Every painter with an edge
    is a source, every other one a target.
    """
    import logging

    from django.test import override_settings

    from gallery.models import Artist, Influence
    from recommender import graph as neo

    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)  # "label does not exist" on empty graphs
    if not neo.ping():
        return "Neo4j check skipped: Neo4j not reachable"
    scratch = not Influence.objects.exists() or not neo.counts()[1]
    if scratch:
        label, keys = "EvalCheckArtist", {name: name for name in graph.neighbours}
        where = "scratch label EvalCheckArtist loaded from influences.csv"
    else:
        label, keys = neo.settings.NEO4J_ARTIST_LABEL, dict(Artist.objects.values_list("name", "slug"))
        app_edges = set(Influence.objects.values_list("artist__name", "influencer__name"))
        where = (
            f"the app's graph, {len(app_edges)} edges, {len(app_edges & graph.edges)} of the "
            f"{len(graph.edges)} in influences.csv"
        )
        graph = InfluenceGraph.from_edges(app_edges)
    painters = sorted(graph.neighbours)
    mismatches: list[str] = []
    pairs = 0
    t0 = time.perf_counter()
    with override_settings(NEO4J_ARTIST_LABEL=label):
        try:
            if scratch:
                neo.clear()
                neo.upsert_artists([(name, name) for name in painters])
                neo.upsert_influences(sorted(graph.edges))
            for source in painters:
                targets = [t for t in painters if t != source]
                offline = {t: p.length for t, p in graph.shortest_paths(source, targets, max_hops).items()}
                online = neo.shortest_paths(keys[source], [keys[t] for t in targets], max_hops=max_hops)
                online_len = {t: online[keys[t]].length for t in targets if keys[t] in online}
                pairs += len(offline)
                if offline != online_len:
                    mismatches.append(source)
        finally:
            if scratch:
                neo.clear()
    return (
        f"Neo4j check ({where}): {len(painters)} source painters, {pairs} connected pairs within {max_hops} hops, "
        f"{len(mismatches)} sources with differing path lengths{': ' + ', '.join(mismatches[:5]) if mismatches else ''}"
        f" ({time.perf_counter() - t0:.1f} s)"
    )


def fmt(x: float) -> str:
    return "–" if math.isnan(x) else f"{x:.3f}"


def neutral_copy(fs: FeatureSet) -> FeatureSet:
    """The same extractor under another name, for the format-neutral pass over the queries."""
    return FeatureSet(f"{fs.name}-neutral", fs.label, fs.version, fs.make, model=fs.model)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(settings.CATALOGUE_DIR))
    ap.add_argument("--style", type=Path, default=STYLE_ROOT / "current", help="style artefact (dir or root)")
    ap.add_argument("--autoencoder", type=Path, default=AE_ROOT, help="autoencoder artefact (dir or root)")
    ap.add_argument(
        "--score-test",
        action="store_true",
        help="query with the test parts (once, for the model you ship); default: the validation parts",
    )
    ap.add_argument("--limit", type=int, default=None, help="N queries + 4N catalogue paintings (smoke run)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/artsite_eval_cache"))
    ap.add_argument("--check-neo4j", action="store_true", help="compare BFS distances with Neo4j")
    args = ap.parse_args()
    t_start = time.perf_counter()

    from recommender.ranking import RankingConfig

    config = RankingConfig()

    # The browsable catalogue only: the training pack is never searched.
    paintings = {p.id: p for p in read_paintings(args.data)}
    split, source = load_split(resolve_artifact_dir(args.style))
    query_parts = ("test", "test_unseen") if args.score_test else ("val", "val_unseen")
    queries = [i for part in query_parts for i in split[part] if i in paintings]
    query_set = set(queries)
    catalogue = sorted(i for i in paintings if i not in query_set)
    if args.limit:
        rng = np.random.default_rng(0)
        queries = sorted(rng.choice(queries, min(args.limit, len(queries)), replace=False).tolist())
        catalogue = sorted(rng.choice(catalogue, min(4 * args.limit, len(catalogue)), replace=False).tolist())
    ids = catalogue + queries
    key = hashlib.sha1(",".join(ids).encode()).hexdigest()[:12]
    print(f"split: {source}; catalogue {len(catalogue)}, queries {len(queries)} ({' + '.join(query_parts)})")

    check_autoencoder_split(args.autoencoder, queries)
    sets = [imagenet_set(), style_set(args.style), autoencoder_set(args.autoencoder)]
    sets = [fs for fs in sets if fs is not None]
    decode_s = extract_all(sets, [paintings[i].path for i in ids], key, args.cache_dir, args.batch)
    neutral_sets = [neutral_copy(fs) for fs in sets]
    qkey = hashlib.sha1(("neutral," + ",".join(queries)).encode()).hexdigest()[:12]
    decode_s += extract_all(
        neutral_sets, [paintings[i].path for i in queries], qkey, args.cache_dir, args.batch, neutral_image
    )

    graph = InfluenceGraph.from_csv(args.data / "influences.csv")
    styles = [paintings[i].style for i in ids]
    painters = [paintings[i].artist for i in ids]
    n_cat = len(catalogue)
    results = {}
    for fs, neutral in zip(sets, neutral_sets, strict=True):
        assert fs.features is not None and neutral.features is not None
        for name, query_features in ((fs.name, fs.features[n_cat:]), (neutral.name, neutral.features)):
            results[name] = evaluate_retrieval(
                fs.features[:n_cat],
                styles[:n_cat],
                painters[:n_cat],
                query_features,
                styles[n_cat:],
                painters[n_cat:],
                graph,
                k=args.k,
                config=config,
            )

    r0 = next(iter(results.values()))
    k = args.k
    print(
        f"\n### Retrieval on held-out paintings: {r0.n_queries} queries ({r0.n_painter_queries} with a known "
        f"painter) against {n_cat} catalogue paintings; exact cosine; re-ranked = RankingConfig defaults "
        f"(weight {config.weight}, same painter {config.same_painter}, unconnected −{config.unconnected_penalty}, "
        f"repeat −{config.repeat_penalty}, {config.candidates} candidates, ≤{config.max_hops} hops). "
        "Queries as the files are, and format-neutral (centre square at 160 px; the catalogue as it is).\n"
    )
    print(
        f"| features | queries | version | dim | style P@{k} | style P@{k} re-ranked | painter P@{k} "
        f"| painter P@{k} re-ranked |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for fs, neutral in zip(sets, neutral_sets, strict=True):
        for label, name in (("original", fs.name), ("format-neutral", neutral.name)):
            r = results[name]
            print(
                f"| {fs.label} | {label} | {fs.version} | {fs.features.shape[1]} | {fmt(r.style_precision)} | "
                f"{fmt(r.style_precision_reranked)} | {fmt(r.painter_precision)} | "
                f"{fmt(r.painter_precision_reranked)} |"
            )

    style = next((fs for fs in sets if fs.name == "style"), None)
    style_neutral = next((fs for fs in neutral_sets if fs.name == "style-neutral"), None)
    if style is not None and style.probs is not None and style_neutral is not None:
        from recommender.training.metrics import evaluate_probs

        classes = style.model.classes
        y = np.array([classes.index(s) for s in styles[n_cat:]])
        print(f"\n### Style classifier on the query parts ({len(y)} catalogue paintings), {style.version}\n")
        print("| queries | top-1 | top-3 | macro-F1 |")
        print("| --- | ---: | ---: | ---: |")
        for label, probs in (("original", style.probs[n_cat:]), ("format-neutral", style_neutral.probs)):
            m = evaluate_probs(y, probs, classes)
            print(f"| {label} | {fmt(m['top1'])} | {fmt(m['top3'])} | {fmt(m['macro_f1'])} |")
        print(
            "\n(The model card's figures also count the held-out images of the training pack; these count "
            "catalogue paintings only.)"
        )

    print("\n### Timings (this machine)\n")
    print("| features | cached | extraction s (inference only) | retrieval eval s |")
    print("| --- | --- | ---: | ---: |")
    for fs in sets:
        print(f"| {fs.name} | {'yes' if fs.cached else 'no'} | {fs.extract_s:.1f} | {results[fs.name].seconds:.1f} |")
    print(f"\ndecoding (wait not hidden by inference): {decode_s:.1f} s; total {time.perf_counter() - t_start:.1f} s")
    if args.check_neo4j:
        print(check_neo4j(graph, config.max_hops))


if __name__ == "__main__":
    main()
