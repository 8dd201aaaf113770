"""pgvector search benchmark: HNSW vs exact on synthetic clustered vectors, then the app's own path.

    python bench/bench_search.py [--n 100000] [--queries 200] [--ef 40 100 200] [--skip-synthetic]
                                 [--skip-catalogue] [--catalogue-queries 100]

(i) Synthetic: ``--n`` unit vectors of 1280-d in clusters of ``--cluster-size`` (2000 x 50 at
100k): centres ~ N(0, 1), points = centre + ``--noise`` * N(0, 1), so every point has graded
neighbours inside its cluster (uniform random vectors have none, and HNSW recall on them means
nothing). They go into a scratch table (``--table``, default ``bench_vectors``) of the app's
database by binary COPY; the table is dropped at the end. The HNSW index (m 16, ef_construction 64,
cosine) is built with ``maintenance_work_mem`` 2 GB and ``parallel_workers`` 2 on the table. Then
``--queries`` fresh points (not in the table) are searched top-10: exact (sequential scan,
``enable_indexscan`` off) and HNSW at each ``--ef``; recall@10 against numpy brute force, p50/p95
client round-trip latency. Target: recall@10 >= 0.98 at p95 <= 15 ms.

(ii) Catalogue size: ``recommender.ranking.similar_works`` (pgvector + Neo4j, as the app calls
it) for ``--catalogue-queries`` random embedded artworks, with and without influence re-ranking.
Skipped with a message when no artwork has an embedding.

Database: ``DATABASE_URL``, else ``.run/postgres.url``. Latencies depend on the machine's load;
the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import struct
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET_RECALL, TARGET_P95_MS = 0.98, 15.0


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = REPO / ".run" / "postgres.url"
    if not path.is_file():
        sys.exit("no DATABASE_URL and no .run/postgres.url: run `bash scripts/services.sh start`")
    return path.read_text(encoding="utf-8").strip()


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def clustered_vectors(
    n: int, dim: int, cluster_size: int, noise: float, n_queries: int, seed: int, out: np.ndarray | None = None
):
    """(data, queries): unit float32 vectors; queries are fresh points of random clusters.

    ``out`` (n x dim float32, e.g. a memmap) receives the data instead of a new array, so 1M x 1280
    need not sit in RAM; the values are the same for the same seed either way.
    """
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // cluster_size)
    centres = rng.standard_normal((n_clusters, dim), dtype=np.float32)

    def points(labels: np.ndarray) -> np.ndarray:
        x = centres[labels] + noise * rng.standard_normal((len(labels), dim), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    data = np.empty((n, dim), np.float32) if out is None else out
    labels = np.repeat(np.arange(n_clusters), cluster_size)[:n]
    labels = np.concatenate([labels, rng.integers(0, n_clusters, n - len(labels))])
    for s in range(0, n, 10_000):
        data[s : s + 10_000] = points(labels[s : s + 10_000])
    return data, points(rng.integers(0, n_clusters, n_queries))


def exact_top_k(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    sims = queries @ data.T
    part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return part + 1  # table ids are 1-based


def copy_binary(cur, table: str, first_id: int, vectors: np.ndarray) -> None:
    """COPY (id, embedding) FROM STDIN in PostgreSQL's binary format (pgvector: int16 dim, int16 0, float4[])."""
    dim = vectors.shape[1]
    row = np.dtype(
        [
            ("nf", ">i2"),
            ("l1", ">i4"),
            ("id", ">i8"),
            ("l2", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("v", ">f4", (dim,)),
        ]
    )
    rec = np.empty(len(vectors), row)
    rec["nf"], rec["l1"], rec["l2"], rec["dim"], rec["unused"] = 2, 8, 4 + 4 * dim, dim, 0
    rec["id"] = np.arange(first_id, first_id + len(vectors))
    rec["v"] = vectors
    payload = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + rec.tobytes() + struct.pack(">h", -1)
    cur.copy_expert(f"COPY {table} (id, embedding) FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload))


def vector_literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in v) + "]"


def run_queries(cur, table: str, queries: np.ndarray, k: int, warmup: int = 10) -> tuple[list[set[int]], np.ndarray]:
    """Top-k ids per query and per-query client round-trip latency in ms."""
    sql = f"SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT {int(k)}"
    literals = [vector_literal(q) for q in queries]
    for lit in literals[:warmup]:
        cur.execute(sql, [lit])
        cur.fetchall()
    found, times = [], []
    for lit in literals:
        t0 = time.perf_counter()
        cur.execute(sql, [lit])
        rows = cur.fetchall()
        times.append((time.perf_counter() - t0) * 1000)
        found.append({r[0] for r in rows})
    return found, np.array(times)


def plan_head(cur, table: str, query: np.ndarray, k: int) -> str:
    cur.execute(
        f"EXPLAIN SELECT id FROM {table} ORDER BY embedding <=> %s::vector LIMIT {int(k)}", [vector_literal(query)]
    )
    lines = [r[0].strip() for r in cur.fetchall()]
    scan = next((ln for ln in lines if "Scan" in ln), lines[0])
    return scan.split("  (")[0]


def recall(found: list[set[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(f & set(t.tolist())) / len(t) for f, t in zip(found, truth, strict=True)]))


def synthetic(args: argparse.Namespace) -> None:
    import psycopg2

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", args.table):
        sys.exit(f"--table must be a plain identifier, got {args.table!r}")
    t = args.table
    print(f"## (i) synthetic: {args.n:,} x {args.dim} clustered unit vectors ({args.n // args.cluster_size} clusters)")
    t0 = time.perf_counter()
    data, queries = clustered_vectors(args.n, args.dim, args.cluster_size, args.noise, args.queries, args.seed)
    truth = exact_top_k(data, queries, args.k)
    print(f"generated + numpy ground truth in {time.perf_counter() - t0:.1f} s")

    conn = psycopg2.connect(database_url())
    conn.autocommit = True
    cur = conn.cursor()
    try:
        cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        cur.execute(f"CREATE TABLE {t} (id bigint NOT NULL, embedding vector({int(args.dim)}) NOT NULL)")
        t0 = time.perf_counter()
        for s in range(0, args.n, 10_000):
            copy_binary(cur, t, s + 1, data[s : s + 10_000])
        t_copy = time.perf_counter() - t0
        cur.execute(f"VACUUM ANALYZE {t}")
        print(f"binary COPY {args.n:,} rows: {t_copy:.1f} s")

        cur.execute("SET maintenance_work_mem = '2GB'")
        # 1280-d vectors are TOASTed, so the planner sizes the heap as tiny and plans no worker
        # unless the table asks for them (infra-notes §1.4).
        cur.execute(f"ALTER TABLE {t} SET (parallel_workers = 2)")
        cur.execute("SHOW max_parallel_maintenance_workers")
        workers = cur.fetchone()[0]
        print(f"building HNSW (m 16, ef_construction 64, cosine), max_parallel_maintenance_workers {workers}, {load()}")
        t0 = time.perf_counter()
        cur.execute(
            f"CREATE INDEX {t}_hnsw ON {t} USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        )
        t_build = time.perf_counter() - t0
        cur.execute(f"SELECT pg_size_pretty(pg_table_size('{t}')), pg_size_pretty(pg_relation_size('{t}_hnsw'))")
        table_size, index_size = cur.fetchone()
        print(f"HNSW build: {t_build:.1f} s ({load()}); table {table_size}, index {index_size}")

        rows: list[tuple[str, float, float, float, str]] = []
        cur.execute("SET enable_indexscan = off")
        n_exact = min(args.exact_queries, len(queries))
        plan = plan_head(cur, t, queries[0], args.k)
        found, ms = run_queries(cur, t, queries[:n_exact], args.k, warmup=2)
        rows.append(("exact (seq scan)", *np.percentile(ms, [50, 95]), recall(found, truth[:n_exact]), plan))
        cur.execute("RESET enable_indexscan")
        for ef in args.ef:
            cur.execute(f"SET hnsw.ef_search = {int(ef)}")
            plan = plan_head(cur, t, queries[0], args.k)
            found, ms = run_queries(cur, t, queries, args.k)
            rows.append((f"HNSW ef_search {ef}", *np.percentile(ms, [50, 95]), recall(found, truth), plan))
        print(f"\n{len(queries)} queries top-{args.k} ({n_exact} exact), {load()}\n")
        print(f"| search | p50 ms | p95 ms | recall@{args.k} | plan |")
        print("| --- | ---: | ---: | ---: | --- |")
        for name, p50, p95, rec, plan in rows:
            print(f"| {name} | {p50:.1f} | {p95:.1f} | {rec:.3f} | {plan} |")
        ok = [name for name, _, p95, rec, _ in rows[1:] if rec >= TARGET_RECALL and p95 <= TARGET_P95_MS]
        verdict = f"met by {', '.join(ok)}" if ok else "NOT met"
        print(f"\ntarget recall@{args.k} >= {TARGET_RECALL} at p95 <= {TARGET_P95_MS:.0f} ms: {verdict}")
        print(f"COPY {t_copy:.1f} s; HNSW build {t_build:.1f} s")
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {t}")
        conn.close()
        print(f"dropped {t}")


def catalogue(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artsite.settings.base")
    import django

    django.setup()
    from gallery.models import Artwork
    from recommender.ranking import similar_works

    print(f"\n## (ii) catalogue: recommender.ranking.similar_works, {args.catalogue_queries} random artworks")
    ids = list(Artwork.objects.filter(embedding__isnull=False).values_list("id", flat=True))
    if not ids:
        print(
            "skipped: no artwork in the catalogue has an embedding "
            "(import the catalogue and run `manage.py embed_catalogue` first)"
        )
        return
    rng = np.random.default_rng(args.seed)
    sample = rng.choice(ids, min(args.catalogue_queries, len(ids)), replace=False).tolist()
    works = list(Artwork.objects.filter(id__in=sample).select_related("artist"))
    print(f"{len(ids)} embedded artworks; {sum(w.artist_id is not None for w in works)} of the queries have a painter")
    print("\n| path | p50 ms | p95 ms | influence skipped |")
    print("| --- | ---: | ---: | ---: |")
    for use_influence in (False, True):
        for w in works[:5]:  # warm-up: connections, Neo4j driver, plan cache
            similar_works(w.embedding, query_artist=w.artist, exclude_ids=[w.id], use_influence=use_influence)
        times, skipped = [], 0
        for w in works:
            t0 = time.perf_counter()
            ranking = similar_works(w.embedding, query_artist=w.artist, exclude_ids=[w.id], use_influence=use_influence)
            times.append((time.perf_counter() - t0) * 1000)
            skipped += ranking.influence_skipped
        p50, p95 = np.percentile(times, [50, 95])
        name = "visual + influence re-ranking (Neo4j)" if use_influence else "visual only (pgvector HNSW)"
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {skipped} |")
    print(f"\n{load()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="synthetic rows")
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--cluster-size", type=int, default=50)
    ap.add_argument("--noise", type=float, default=1.5, help="per-dimension noise around unit-variance centres")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--exact-queries", type=int, default=200, help="how many of the queries also run exact")
    ap.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--table", default="bench_vectors", help="scratch table (dropped at the end)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--skip-catalogue", action="store_true")
    ap.add_argument("--catalogue-queries", type=int, default=100)
    args = ap.parse_args()
    t0 = time.perf_counter()
    if not args.skip_synthetic:
        synthetic(args)
    if not args.skip_catalogue:
        catalogue(args)
    print(f"\ntotal {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
