"""Compare the similarity features on held-out paintings; print markdown tables.

    python bench/evaluate.py [--data CATALOGUE_DIR] [--style DIR] [--autoencoder DIR] [--limit N]
                             [--k 10] [--cache-dir /tmp/artsite_eval_cache] [--check-neo4j]

Feature sets:

* ``imagenet``: frozen ImageNet EfficientNet-Lite0 ``avg_pool`` features (the shared backbone);
* ``style``: the fine-tuned style model's embeddings (``recommender/artifacts/style``);
* ``autoencoder``: the denoising autoencoder's bottleneck (``recommender/artifacts/autoencoder``).

Catalogue = train + val of the style model's split, queries = its test part (no model trained on
them). For each set: precision@k of same style and of same painter (queries with a known painter),
plain cosine order and after influence re-ranking (``recommender.evaluation``). Also the style
classifier's top-1/top-3/macro-F1 on the test part, recomputed from the model and compared with
its model card. Features are cached under ``--cache-dir`` (not the repo), keyed by model version
and the ids. ``--limit N`` keeps N queries and 4N catalogue paintings for a smoke run.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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

from recommender.evaluation import InfluenceGraph, evaluate_retrieval, load_split  # noqa: E402
from recommender.ml.autoencoder import ARTIFACTS_ROOT as AE_ROOT  # noqa: E402
from recommender.ml.preprocess import load_batch  # noqa: E402
from recommender.ml.style_model import ARTIFACTS_ROOT as STYLE_ROOT  # noqa: E402
from recommender.ml.style_model import resolve_artifact_dir  # noqa: E402
from recommender.training import default_backbone_path, read_catalogue  # noqa: E402

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


def check_autoencoder_split(artifact: Path, data_dir: Path, queries: list[str]) -> None:
    """Warn when the autoencoder may have trained on query paintings (it must use the same split)."""
    import json

    from recommender.ml.autoencoder import CARD_FILE_NAME
    from recommender.ml.autoencoder import resolve_artifact_dir as resolve_ae_dir
    from recommender.training import make_split

    card_file = resolve_ae_dir(artifact) / CARD_FILE_NAME
    if not card_file.is_file():
        return
    source = json.loads(card_file.read_text(encoding="utf-8")).get("data", {}).get("split", "")
    match = re.fullmatch(r"make_split\(seed=(\d+)\)", source)
    if match:
        train = set(make_split(read_catalogue(data_dir), seed=int(match.group(1)))["train"])
    elif Path(source).is_file():
        train = set(json.loads(Path(source).read_text(encoding="utf-8"))["train"])
    else:
        print(f"autoencoder: cannot check its training split ({source!r})")
        return
    seen = len(train & set(queries))
    print(f"autoencoder trained on {source}: {seen} of the {len(queries)} queries in its training part")
    if seen:
        print("WARNING: the autoencoder saw query paintings; its numbers are optimistic")


def extract_all(sets: list[FeatureSet], paths: list[Path], key: str, cache_dir: Path, batch: int) -> float:
    """Fill each set's features from the cache or by one shared decoding pass; returns decode seconds."""
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
    chunks = [paths[i : i + batch] for i in range(0, len(paths), batch)]
    decode_s = 0.0
    t_all = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = [pool.submit(load_batch, c) for c in chunks[:2]]
        for i in range(len(chunks)):
            t0 = time.perf_counter()
            x = pending[i].result()  # time spent waiting for decoding, not hidden behind inference
            decode_s += time.perf_counter() - t0
            if i + 2 < len(chunks):
                pending.append(pool.submit(load_batch, chunks[i + 2]))
            for fs in todo:
                t0 = time.perf_counter()
                for name, value in extractors[fs.name](x).items():
                    outs[fs.name].setdefault(name, []).append(value)
                fs.extract_s += time.perf_counter() - t0
            if i % 50 == 0 or i == len(chunks) - 1:
                done = min((i + 1) * batch, len(paths))
                rate = done / (time.perf_counter() - t_all)
                print(f"  features: {done}/{len(paths)} images, {rate:.0f} img/s", file=sys.stderr, flush=True)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("ARTSITE_CATALOGUE_DIR", REPO.parent / "shared" / "data" / "catalogue")),
    )
    ap.add_argument("--style", type=Path, default=STYLE_ROOT / "current", help="style artefact (dir or root)")
    ap.add_argument("--autoencoder", type=Path, default=AE_ROOT, help="autoencoder artefact (dir or root)")
    ap.add_argument("--limit", type=int, default=None, help="N queries + 4N catalogue paintings (smoke run)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/artsite_eval_cache"))
    ap.add_argument("--check-neo4j", action="store_true", help="compare BFS distances with Neo4j")
    args = ap.parse_args()
    t_start = time.perf_counter()

    from recommender.ranking import RankingConfig

    config = RankingConfig()

    paintings = {p.id: p for p in read_catalogue(args.data)}
    split, source = load_split(args.data, resolve_artifact_dir(args.style))
    catalogue = [i for i in split["train"] + split["val"] if i in paintings]
    queries = [i for i in split["test"] if i in paintings]
    if args.limit:
        rng = np.random.default_rng(0)
        queries = sorted(rng.choice(queries, min(args.limit, len(queries)), replace=False).tolist())
        catalogue = sorted(rng.choice(catalogue, min(4 * args.limit, len(catalogue)), replace=False).tolist())
    ids = catalogue + queries
    key = hashlib.sha1(",".join(ids).encode()).hexdigest()[:12]
    print(f"split: {source}; catalogue {len(catalogue)}, queries {len(queries)} (test part)")

    check_autoencoder_split(args.autoencoder, args.data, queries)
    sets = [imagenet_set(), style_set(args.style), autoencoder_set(args.autoencoder)]
    sets = [fs for fs in sets if fs is not None]
    decode_s = extract_all(sets, [paintings[i].path for i in ids], key, args.cache_dir, args.batch)

    graph = InfluenceGraph.from_csv(args.data / "influences.csv")
    styles = [paintings[i].style for i in ids]
    painters = [paintings[i].artist for i in ids]
    n_cat = len(catalogue)
    results = {}
    for fs in sets:
        assert fs.features is not None
        results[fs.name] = evaluate_retrieval(
            fs.features[:n_cat],
            styles[:n_cat],
            painters[:n_cat],
            fs.features[n_cat:],
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
        f"repeat −{config.repeat_penalty}, {config.candidates} candidates, ≤{config.max_hops} hops)\n"
    )
    print(
        f"| features | version | dim | style P@{k} | style P@{k} re-ranked | painter P@{k} | painter P@{k} re-ranked |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for fs in sets:
        r = results[fs.name]
        print(
            f"| {fs.label} | {fs.version} | {fs.features.shape[1]} | {fmt(r.style_precision)} | "
            f"{fmt(r.style_precision_reranked)} | {fmt(r.painter_precision)} | {fmt(r.painter_precision_reranked)} |"
        )

    style = next((fs for fs in sets if fs.name == "style"), None)
    if style is not None and style.probs is not None:
        from recommender.training import evaluate_probs

        model = style.model
        classes = model.classes
        y = np.array([classes.index(s) for s in styles[n_cat:]])
        metrics = evaluate_probs(y, style.probs[n_cat:], classes)
        card = model.model_card.get("test", {})
        print(f"\n### Style classifier on the test part ({metrics['n']} paintings), {style.version}\n")
        print("| metric | recomputed | model card | match |")
        print("| --- | ---: | ---: | --- |")
        for name, label in (("top1", "top-1"), ("top3", "top-3"), ("macro_f1", "macro-F1")):
            ours, theirs = metrics[name], card.get(name)
            if theirs is None or args.limit:
                verdict, shown = "n/a (limited run)" if args.limit else "n/a (not in card)", "–"
            else:
                verdict, shown = ("yes" if abs(ours - theirs) < 1e-3 else f"NO (Δ {ours - theirs:+.4f})"), fmt(theirs)
            print(f"| {label} | {fmt(ours)} | {shown} | {verdict} |")

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
