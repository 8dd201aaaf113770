"""Vector search at scale: pgvector (vector, halfvec, reduced dimension + re-rank) vs FAISS HNSW.

    python bench/bench_vectors.py [--n 100000] [--queries 200] [--ef 40 100] [--reduced-dim 256]
                                  [--source synthetic|catalogue] [--variants vector halfvec reduced faiss filtered]

The same vectors in the same run for every variant:

* ``synthetic``: unit 1280-d vectors in clusters of 50 (bench_search.clustered_vectors), or
* ``catalogue``: the real catalogue embeddings (gallery_artwork.embedding) repeated with Gaussian
  noise (sigma 0.02 per dimension, renormalised) up to ``--n``.

Queries are fresh points (not in the table); ground truth is numpy brute force (cosine). Variants,
all HNSW m 16, ef_construction 64, cosine:

* ``vector``: pgvector ``vector(1280)``;
* ``halfvec``: pgvector ``halfvec(1280)`` (2 bytes per dimension);
* ``reduced``: PCA to ``--reduced-dim`` (fitted on 20k rows) in ``vector(d)`` with its own HNSW; the
  top ``--rerank`` candidates re-ranked by the full 1280-d vector stored beside it, in one query;
* ``faiss``: ``faiss.IndexHNSWFlat`` (inner product on unit vectors) in this process — no network or
  SQL round trip, which is part of what a user choosing FAISS would get (and lose: filtering, MVCC,
  one store);
* ``filtered``: pgvector ``vector`` with a ``style`` column (13 values, one per cluster), top-10
  within a style that is *not* the query's own cluster's (its nearest neighbours are all filtered
  out), with ``hnsw.iterative_scan`` off vs ``strict_order``.

Printed per variant and ``ef_search``: build time, index size (pgvector: ``pg_relation_size``;
FAISS: serialised size), recall@10, p50/p95 latency (pgvector: client round trip on a Unix socket;
FAISS: one query at a time), and the server's resident memory is not separable per index, so
memory is reported as index size (HNSW is served from shared buffers). The load average is printed:
this machine has 2 shared cores.
"""

from __future__ import annotations

import argparse
import io
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import clustered_vectors, database_url, exact_top_k, load, recall, vector_literal

K = 10
N_STYLES = 13
TABLE = "bench_vectors_scale"


def catalogue_vectors(n: int, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    import psycopg2

    conn = psycopg2.connect(database_url())
    cur = conn.cursor()
    cur.execute("SELECT embedding::text FROM gallery_artwork WHERE embedding IS NOT NULL")
    base = np.array([np.fromstring(r[0].strip("[]"), sep=",", dtype=np.float32) for r in cur.fetchall()])
    conn.close()
    if not len(base):
        sys.exit("no catalogue embeddings: run manage.py embed_catalogue first, or use --source synthetic")
    rng = np.random.default_rng(seed)

    def noisy(idx: np.ndarray) -> np.ndarray:
        x = base[idx] + 0.02 * rng.standard_normal((len(idx), base.shape[1]), dtype=np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    return noisy(np.arange(n) % len(base)), noisy(rng.integers(0, len(base), n_queries))


def _copy(cur, table: str, columns: str, rows: list[bytes]) -> None:
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    payload = header + b"".join(rows) + struct.pack("!h", -1)
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload))


def _vec(v: np.ndarray) -> bytes:
    body = struct.pack("!hh", len(v), 0) + v.astype(">f4").tobytes()
    return struct.pack("!i", len(body)) + body


def _row(i: int, full: np.ndarray, small: np.ndarray, style: int) -> bytes:
    return struct.pack("!h", 4) + struct.pack("!iq", 8, i) + _vec(full) + _vec(small) + struct.pack("!ii", 4, style)


def _timed_queries(cur, sql: str, params_of, queries: np.ndarray) -> tuple[list[set[int]], np.ndarray]:
    found, ms = [], []
    params = [params_of(q) for q in queries]  # built before timing (and consumes any iterator once)
    for p in params[:5]:  # warm the index pages into shared buffers; not counted
        cur.execute(sql, p)
        cur.fetchall()
    for p in params:
        t0 = time.perf_counter()
        cur.execute(sql, p)
        found.append({r[0] for r in cur.fetchall()})
        ms.append((time.perf_counter() - t0) * 1000)
    return found, np.array(ms)


def _line(name: str, build: float, size: str, found, truth, ms) -> str:
    p50, p95 = np.percentile(ms, [50, 95])
    return f"| {name} | {build:.0f} | {size} | {recall(found, truth):.3f} | {p50:.1f} | {p95:.1f} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--ef", type=int, nargs="+", default=[40, 100])
    ap.add_argument("--reduced-dim", type=int, default=256)
    ap.add_argument("--rerank", type=int, default=50)
    ap.add_argument("--source", choices=["synthetic", "catalogue"], default="synthetic")
    ap.add_argument("--variants", nargs="+", default=["vector", "halfvec", "reduced", "faiss", "filtered"])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import psycopg2

    t0 = time.perf_counter()
    if args.source == "synthetic":
        data, queries = clustered_vectors(args.n, 1280, 50, 0.6, args.queries, args.seed)
    else:
        data, queries = catalogue_vectors(args.n, args.queries, args.seed)
    truth = exact_top_k(data, queries, K)
    styles = (np.arange(args.n) // 50) % N_STYLES  # one style per cluster of 50
    sample = data[np.random.default_rng(1).choice(args.n, min(20_000, args.n), replace=False)]
    mean = sample.mean(axis=0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    basis = vt[: args.reduced_dim].T.astype(np.float32)
    small = (data - mean) @ basis
    small /= np.linalg.norm(small, axis=1, keepdims=True)
    small_q = (queries - mean) @ basis
    small_q /= np.linalg.norm(small_q, axis=1, keepdims=True)
    print(
        f"## {args.n:,} x 1280 {args.source} vectors, {len(queries)} queries, top-{K}; "
        f"data + ground truth + PCA in {time.perf_counter() - t0:.0f} s ({load()})\n"
    )
    print("| variant | build s | index size | recall@10 | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")

    conn = psycopg2.connect(database_url())
    conn.autocommit = True
    cur = conn.cursor()
    d = args.reduced_dim
    try:
        if set(args.variants) - {"faiss"}:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cur.execute(
                f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, embedding vector(1280), small vector({d}), "
                "style int, half halfvec(1280))"
            )
            for s in range(0, args.n, 5_000):
                rows = [_row(i + 1, data[i], small[i], int(styles[i])) for i in range(s, min(s + 5_000, args.n))]
                _copy(cur, TABLE, "id, embedding, small, style", rows)
            cur.execute(f"UPDATE {TABLE} SET half = embedding::halfvec(1280)")
            cur.execute(f"VACUUM ANALYZE {TABLE}")
            cur.execute("SET maintenance_work_mem = '2GB'")
            # No parallel build: the machine is shared (a model trains on it); builds use one core.

        def build(column: str, opclass: str) -> tuple[float, str]:
            t = time.perf_counter()
            cur.execute(
                f"CREATE INDEX {TABLE}_{column}_hnsw ON {TABLE} USING hnsw ({column} {opclass}) "
                "WITH (m = 16, ef_construction = 64)"
            )
            took = time.perf_counter() - t
            cur.execute(f"SELECT pg_size_pretty(pg_relation_size('{TABLE}_{column}_hnsw'))")
            return took, cur.fetchone()[0]

        def drop(column: str) -> None:
            cur.execute(f"DROP INDEX IF EXISTS {TABLE}_{column}_hnsw")

        if "vector" in args.variants or "filtered" in args.variants:
            took, size = build("embedding", "vector_cosine_ops")
            sql = f"SELECT id FROM {TABLE} ORDER BY embedding <=> %s::vector LIMIT {K}"
            if "vector" in args.variants:
                for ef in args.ef:
                    cur.execute(f"SET hnsw.ef_search = {ef}")
                    found, ms = _timed_queries(cur, sql, lambda q: [vector_literal(q)], queries)
                    print(_line(f"pgvector vector(1280), ef {ef}", took, size, found, truth, ms), flush=True)
            if "filtered" in args.variants:
                # A style other than the query's own cluster's: its nearest neighbours are filtered out,
                # so the index must look past them (what iterative scans are for).
                own = styles[(np.argmax(queries @ data[::50].T, axis=1) * 50)]
                wanted = (own + 1 + np.arange(len(queries)) % (N_STYLES - 1)) % N_STYLES
                ftruth = []
                for q, style in zip(queries, wanted, strict=True):
                    idx = np.flatnonzero(styles == style)
                    sims = data[idx] @ q
                    ftruth.append(idx[np.argsort(-sims)[:K]] + 1)
                ftruth = np.array(ftruth)
                fsql = f"SELECT id FROM {TABLE} WHERE style = %s ORDER BY embedding <=> %s::vector LIMIT {K}"
                cur.execute("SET hnsw.ef_search = 100")
                for mode in ("off", "strict_order"):
                    cur.execute(f"SET hnsw.iterative_scan = {mode}")
                    it = iter(wanted)
                    found, ms = _timed_queries(cur, fsql, lambda q, it=it: [int(next(it)), vector_literal(q)], queries)
                    short = sum(1 for f in found if len(f) < K)
                    name = f"filtered by style (1 of {N_STYLES}), iterative_scan {mode}, {short} short answers"
                    print(_line(name, took, size, found, ftruth, ms), flush=True)
                cur.execute("RESET hnsw.iterative_scan")
            drop("embedding")

        if "halfvec" in args.variants:
            took, size = build("half", "halfvec_cosine_ops")
            sql = f"SELECT id FROM {TABLE} ORDER BY half <=> %s::halfvec(1280) LIMIT {K}"
            for ef in args.ef:
                cur.execute(f"SET hnsw.ef_search = {ef}")
                found, ms = _timed_queries(cur, sql, lambda q: [vector_literal(q)], queries)
                print(_line(f"pgvector halfvec(1280), ef {ef}", took, size, found, truth, ms), flush=True)
            drop("half")

        if "reduced" in args.variants:
            took, size = build("small", "vector_cosine_ops")
            sql = (
                f"SELECT id FROM (SELECT id, embedding FROM {TABLE} ORDER BY small <=> %s::vector "
                f"LIMIT {args.rerank}) c ORDER BY embedding <=> %s::vector LIMIT {K}"
            )
            queries_small = dict(enumerate(small_q))
            for ef in args.ef:
                cur.execute(f"SET hnsw.ef_search = {max(ef, args.rerank)}")
                it = iter(range(len(queries)))
                found, ms = _timed_queries(
                    cur, sql, lambda q, it=it: [vector_literal(queries_small[next(it)]), vector_literal(q)], queries
                )
                name = f"pgvector PCA {d}-d + re-rank top {args.rerank} by 1280-d, ef {max(ef, args.rerank)}"
                print(_line(name, took, size, found, truth, ms), flush=True)
            drop("small")

        if "faiss" in args.variants:
            import faiss

            faiss.omp_set_num_threads(2)
            index = faiss.IndexHNSWFlat(1280, 16, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 64
            t = time.perf_counter()
            index.add(data)
            took = time.perf_counter() - t
            size = f"{len(faiss.serialize_index(index)) / 2**20:.0f} MB"
            faiss.omp_set_num_threads(1)  # one query at a time, like a web request
            for ef in args.ef:
                index.hnsw.efSearch = ef
                found, ms = [], []
                for q in queries:
                    t = time.perf_counter()
                    _, ids = index.search(q[None], K)
                    ms.append((time.perf_counter() - t) * 1000)
                    found.append({int(i) + 1 for i in ids[0]})
                print(_line(f"FAISS IndexHNSWFlat, efSearch {ef}", took, size, found, truth, np.array(ms)), flush=True)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.close()
    print(f"\n{load()}")


if __name__ == "__main__":
    main()
