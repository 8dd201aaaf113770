"""What a style-model switch costs search: the flip transaction at catalogue size, with searches running.

    python bench/bench_switch.py [--n 11670] [--dim 1280] [--seconds-before 5]

Reproduces the storage of recommender/versions.py in scratch tables of the app's database: an
"artwork" table with the active vectors under an HNSW index (m 16, ef_construction 64, cosine) and a
staging table (no vector index) with the new version's vectors. A thread searches top-10 (ef_search
100) without pause the whole time; the main thread then runs the flip exactly as
`versions.version_switch` does (keep the outgoing vectors, UPDATE ... FROM the staging table, delete
the staged rows) in one transaction. Printed: the flip's duration, and search latency p50/p95/max
before, during and after it, plus whether every search returned 10 rows; then 200 searches each
with pgvector's iterative scans off / strict / relaxed before VACUUM, the VACUUM, and searches after.
Synthetic clustered unit vectors (bench_search.clustered_vectors). Scratch tables are dropped at the end.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import clustered_vectors, copy_binary, database_url, load, vector_literal

ART, STAGED = "bench_switch_artwork", "bench_switch_staged"


def _searcher(url: str, queries: np.ndarray, stop: threading.Event, out: list[tuple[float, float, int]]) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET hnsw.ef_search = 100")
    i = 0
    while not stop.is_set():
        q = vector_literal(queries[i % len(queries)])
        t0 = time.perf_counter()
        cur.execute(f"SELECT id FROM {ART} ORDER BY embedding <=> %s::vector LIMIT 10", [q])
        rows = cur.fetchall()
        out.append((time.perf_counter(), (time.perf_counter() - t0) * 1000, len(rows)))
        i += 1
    conn.close()


def _phase(url: str, queries: np.ndarray, iterative: str) -> str:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET hnsw.ef_search = 100")
    cur.execute(f"SET hnsw.iterative_scan = {iterative}")
    samples = []
    for q in queries:
        t0 = time.perf_counter()
        cur.execute(f"SELECT id FROM {ART} ORDER BY embedding <=> %s::vector LIMIT 10", [vector_literal(q)])
        n = len(cur.fetchall())
        samples.append((t0, (time.perf_counter() - t0) * 1000, n))
    conn.close()
    return _summary(samples, 0, float("inf"))


def _summary(samples: list[tuple[float, float, int]], start: float, end: float) -> str:
    ms = np.array([m for t, m, _ in samples if start <= t < end])
    short = sum(1 for t, _, n in samples if start <= t < end and n != 10)
    if not len(ms):
        return "no searches"
    p50, p95 = np.percentile(ms, [50, 95])
    return f"{len(ms)} searches, p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {ms.max():.1f} ms, {short} short answers"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=11_670)
    ap.add_argument("--dim", type=int, default=1280)
    ap.add_argument("--seconds-before", type=float, default=5.0)
    args = ap.parse_args()
    import psycopg2

    url = database_url()
    old, queries = clustered_vectors(args.n, args.dim, 50, 0.6, 200, seed=1)
    new, _ = clustered_vectors(args.n, args.dim, 50, 0.6, 1, seed=2)
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    try:
        for table in (ART, STAGED):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(f"CREATE TABLE {ART} (id bigint PRIMARY KEY, embedding vector({args.dim}), embedding_version text)")
        cur.execute(
            f"CREATE TABLE {STAGED} (artwork_id bigint, version text, vector vector({args.dim}), "
            "PRIMARY KEY (artwork_id, version))"
        )
        for s in range(0, args.n, 10_000):
            copy_binary(cur, ART, s + 1, old[s : s + 10_000])
        cur.execute(f"UPDATE {ART} SET embedding_version = 'v1'")
        cur.execute(f"CREATE TEMP TABLE new_vectors (id bigint, embedding vector({int(args.dim)}))")
        for s in range(0, args.n, 10_000):
            copy_binary(cur, "new_vectors", s + 1, new[s : s + 10_000])
        cur.execute(f"INSERT INTO {STAGED} SELECT id, 'v2', embedding FROM new_vectors")
        cur.execute(f"VACUUM ANALYZE {ART}")
        t0 = time.perf_counter()
        cur.execute(
            f"CREATE INDEX {ART}_hnsw ON {ART} USING hnsw (embedding vector_cosine_ops) "
            "WITH (m = 16, ef_construction = 64)"
        )
        print(f"{args.n:,} x {args.dim}: HNSW build {time.perf_counter() - t0:.1f} s ({load()})")

        samples: list[tuple[float, float, int]] = []
        stop = threading.Event()
        thread = threading.Thread(target=_searcher, args=(url, queries, stop, samples))
        thread.start()
        time.sleep(args.seconds_before)
        flip_start = time.perf_counter()
        cur.execute("BEGIN")
        cur.execute(
            f"""INSERT INTO {STAGED} (artwork_id, version, vector)
            SELECT id, embedding_version, embedding FROM {ART} WHERE embedding IS NOT NULL
            ON CONFLICT (artwork_id, version) DO UPDATE SET vector = EXCLUDED.vector"""
        )
        cur.execute(
            f"""UPDATE {ART} AS a SET embedding = e.vector, embedding_version = e.version
            FROM {STAGED} AS e WHERE e.artwork_id = a.id AND e.version = 'v2'"""
        )
        cur.execute(f"DELETE FROM {STAGED} WHERE version = 'v2'")
        cur.execute("COMMIT")
        flip_end = time.perf_counter()
        time.sleep(args.seconds_before)
        stop.set()
        thread.join()
        cur.execute(f"SELECT count(*) FROM {ART} WHERE embedding_version = 'v2'")
        switched = cur.fetchone()[0]
        cur.execute(f"SELECT pg_size_pretty(pg_relation_size('{ART}_hnsw'))")
        index_size = cur.fetchone()[0]
        print(
            f"flip (keep old vectors + UPDATE ... FROM staged + delete staged): {flip_end - flip_start:.1f} s, "
            f"{switched:,} rows now v2; HNSW index {index_size} after ({load()})"
        )
        print(f"before: {_summary(samples, 0, flip_start)}")
        print(f"during: {_summary(samples, flip_start, flip_end)}")
        print(f"after:  {_summary(samples, flip_end, float('inf'))}")
        # The flip leaves one dead index entry per row until VACUUM: a plain HNSW scan stops after
        # ef_search candidates, and dead ones are dropped after it, so answers can come back short.
        for mode in ("off", "strict_order", "relaxed_order"):
            print(f"after, hnsw.iterative_scan = {mode}: {_phase(url, queries, mode)}")
        t0 = time.perf_counter()
        cur.execute(f"VACUUM {ART}")
        print(f"VACUUM after the flip: {time.perf_counter() - t0:.1f} s ({load()})")
        print(f"after VACUUM, iterative_scan off: {_phase(url, queries, 'off')}")
    finally:
        for table in (ART, STAGED):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        conn.close()


if __name__ == "__main__":
    main()
