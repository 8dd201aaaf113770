"""Vector search at scale: pgvector (vector, halfvec, reduced dimension + re-rank) vs FAISS HNSW.

    python bench/bench_vectors.py [--n 100000] [--queries 200] [--ef 40 100] [--reduced-dim 256]
                                  [--source synthetic|catalogue] [--variants vector halfvec reduced faiss filtered]

The same vectors in the same run for every variant:

* ``synthetic``: unit 1280-d vectors in clusters of 50 (bench_search.clustered_vectors), or
* ``catalogue``: the real catalogue embeddings (gallery_artwork.embedding) repeated with Gaussian
  noise (sigma 0.02 per dimension, renormalised) up to ``--n``.

Queries are fresh points (not in the table); ground truth is numpy brute force (cosine), computed
in blocks of 20k rows. Variants, all HNSW m 16, ef_construction 64 (``--m``, ``--ef-construction``),
cosine:

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
FAISS: flat vectors + graph, about its serialised size), recall@10, p50/p95 latency (pgvector:
client round trip on a Unix socket; FAISS: one query at a time), and the server's resident memory
is not separable per index, so memory is reported as index size (HNSW is served from shared buffers
and the page cache). Any NOTICE of the build (``hnsw graph no longer fits into
maintenance_work_mem``) is printed. The load average is printed: this machine has 2 shared cores.

At 1M (5.1 GB of float32) run each variant in its own process on the same ``--cache`` so that no
process holds the data, a FAISS index and a built pgvector graph at once, e.g.::

    python bench/bench_vectors.py --n 1000000 --cache /tmp/bv --variants vector \\
        --ef 40 100 200 400 --maintenance-work-mem 10GB

The data is COPYed in 20k-row blocks with only the columns the variants read; the table is dropped
at the end, also on an error, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import io
import signal
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_search import clustered_vectors, database_url, load, recall, vector_literal

K = 10
N_STYLES = 13
TABLE = "bench_vectors_scale"
CHUNK = 20_000  # rows per COPY / ground-truth block: 100 MB of float32 at 1280-d


def catalogue_vectors(n: int, n_queries: int, seed: int, out: np.ndarray) -> np.ndarray:
    """Fill ``out`` (n x 1280) with noisy copies of the catalogue embeddings; return the queries."""
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

    for s in range(0, n, CHUNK):  # row chunks draw the same normals, in the same order, as one call
        out[s : s + CHUNK] = noisy(np.arange(s, min(s + CHUNK, n)) % len(base))
    return noisy(rng.integers(0, len(base), n_queries))


def dataset(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray]:
    """(data, queries). With ``--cache DIR`` the data is a .npy file there, memory-mapped read-only and
    reused by later runs with the same source, n and seed (1M x 1280 float32 is 5.1 GB: the page cache
    holds it, not this process, and each variant can run in its own process on identical vectors)."""
    if args.cache is None:
        data = np.empty((args.n, 1280), np.float32)
        return data, _fill(args, data)
    args.cache.mkdir(parents=True, exist_ok=True)
    stem = args.cache / f"{args.source}-{args.n}-{args.seed}"
    data_path, queries_path = stem.with_suffix(".data.npy"), stem.with_suffix(f".q{args.queries}.npy")
    if not (data_path.is_file() and queries_path.is_file()):
        partial = stem.with_suffix(".partial.npy")
        data = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(args.n, 1280))
        queries = _fill(args, data)
        data.flush()
        del data
        np.save(queries_path, queries)
        partial.rename(data_path)
    return np.load(data_path, mmap_mode="r"), np.load(queries_path)


def _fill(args: argparse.Namespace, out: np.ndarray) -> np.ndarray:
    if args.source == "synthetic":
        return clustered_vectors(args.n, 1280, 50, 0.6, args.queries, args.seed, out=out)[1]
    return catalogue_vectors(args.n, args.queries, args.seed, out)


def chunked_top_k(data: np.ndarray, queries: np.ndarray, k: int, keep=None) -> np.ndarray:
    """Exact top-k ids (1-based) by inner product, one CHUNK of rows at a time: never a full
    queries x n matrix or a second copy of the data. ``keep(start, stop)`` -> bool mask
    (queries x rows) restricts each query to some rows (the filtered search's ground truth)."""
    best_sim = np.full((len(queries), k), -np.inf, np.float32)
    best_id = np.zeros((len(queries), k), np.int64)
    for s in range(0, len(data), CHUNK):
        block = np.asarray(data[s : s + CHUNK])
        sims = queries @ block.T
        if keep is not None:
            sims[~keep(s, s + len(block))] = -np.inf
        sims = np.concatenate([best_sim, sims], axis=1)
        ids = np.concatenate([best_id, np.broadcast_to(np.arange(s + 1, s + len(block) + 1), sims[:, k:].shape)], 1)
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        best_sim, best_id = np.take_along_axis(sims, top, 1), np.take_along_axis(ids, top, 1)
    return best_id


def pca_reduce(data: np.ndarray, queries: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """PCA to ``dim`` fitted on 20k rows, applied chunk by chunk; unit rows."""
    sample = np.asarray(data[np.sort(np.random.default_rng(1).choice(len(data), min(20_000, len(data)), False))])
    mean = sample.mean(axis=0)
    _, _, vt = np.linalg.svd(sample - mean, full_matrices=False)
    basis = vt[:dim].T.astype(np.float32)
    small = np.empty((len(data), dim), np.float32)
    for s in range(0, len(data), CHUNK):
        small[s : s + CHUNK] = (np.asarray(data[s : s + CHUNK]) - mean) @ basis
    small_q = (queries - mean) @ basis
    small /= np.linalg.norm(small, axis=1, keepdims=True)
    return small, small_q / np.linalg.norm(small_q, axis=1, keepdims=True)


def copy_rows(cur, table: str, columns: dict[str, np.ndarray], first_id: int) -> None:
    """Binary COPY of (id, *columns): ``vector`` columns as float32 arrays, ``halfvec`` as float16,
    ``int`` as int32 (pgvector's binary form: int16 dim, int16 0, big-endian elements)."""
    fields: list[tuple] = [("nf", ">i2"), ("l_id", ">i4"), ("id", ">i8")]
    for name, values in columns.items():
        fields.append((f"l_{name}", ">i4"))
        if values.ndim == 1:
            fields.append((name, ">i4"))
        else:
            fields += [(f"d_{name}", ">i2"), (f"u_{name}", ">i2"), (name, f">{values.dtype.char}", (values.shape[1],))]
    rows = len(next(iter(columns.values())))
    rec = np.empty(rows, np.dtype(fields))
    rec["nf"], rec["l_id"], rec["id"] = 1 + len(columns), 8, np.arange(first_id, first_id + rows)
    for name, values in columns.items():
        if values.ndim == 1:
            rec[f"l_{name}"], rec[name] = 4, values
        else:
            width = values.shape[1]
            rec[f"l_{name}"], rec[f"d_{name}"], rec[f"u_{name}"] = 4 + width * values.itemsize, width, 0
            rec[name] = values
    payload = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0) + rec.tobytes() + struct.pack("!h", -1)
    names = ", ".join(["id", *columns])
    cur.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload))


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
    ap.add_argument("--ef", type=int, nargs="+", default=[40, 100], help="ef_search / efSearch values")
    ap.add_argument("--reduced-dim", type=int, default=256)
    ap.add_argument("--rerank", type=int, default=50)
    ap.add_argument("--source", choices=["synthetic", "catalogue"], default="synthetic")
    ap.add_argument("--variants", nargs="+", default=["vector", "halfvec", "reduced", "faiss", "filtered"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cache", type=Path, help="keep the generated vectors here as .npy (memory-mapped)")
    ap.add_argument(
        "--maintenance-work-mem",
        default="2GB",
        help="for the HNSW builds; the graph must fit or pgvector warns and the build slows down "
        "(index size is a fair guide: ~7.8 KB per vector(1280) row, ~3.9 KB per halfvec)",
    )
    ap.add_argument("--build-workers", type=int, default=0, help="max_parallel_maintenance_workers")
    ap.add_argument("--m", type=int, default=16, help="HNSW m (pgvector and FAISS)")
    ap.add_argument("--ef-construction", type=int, default=64, help="HNSW ef_construction (pgvector and FAISS)")
    args = ap.parse_args()
    import psycopg2

    # SIGTERM (kill, a closed nohup session) must still reach the finally below that drops the table.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
    t0 = time.perf_counter()
    data, queries = dataset(args)
    truth = chunked_top_k(data, queries, K)
    styles = (np.arange(args.n) // 50) % N_STYLES  # one style per cluster of 50
    if "reduced" in args.variants:
        small, small_q = pca_reduce(data, queries, args.reduced_dim)
    print(
        f"## {args.n:,} x 1280 {args.source} vectors, {len(queries)} queries, top-{K}; "
        f"data + ground truth{' + PCA' if 'reduced' in args.variants else ''} in {time.perf_counter() - t0:.0f} s "
        f"({load()})\n",
        flush=True,
    )
    print("| variant | build s | index size | recall@10 | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |", flush=True)

    conn = psycopg2.connect(database_url())
    conn.autocommit = True
    cur = conn.cursor()
    d = args.reduced_dim
    pg = set(args.variants) - {"faiss"}
    # Only the columns the chosen variants read: at 1M every 1280-d column is gigabytes of table.
    columns = {"style": "int"}
    if pg & {"vector", "filtered", "reduced"}:
        columns["embedding"] = "vector(1280)"
    if "halfvec" in pg:
        columns["half"] = "halfvec(1280)"
    if "reduced" in pg:
        columns["small"] = f"vector({d})"
    try:
        if pg:
            t = time.perf_counter()
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cols = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            cur.execute(f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, {cols})")
            for s in range(0, args.n, CHUNK):
                block = np.asarray(data[s : s + CHUNK])
                values = {"style": styles[s : s + CHUNK]}
                if "embedding" in columns:
                    values["embedding"] = block
                if "half" in columns:
                    values["half"] = block.astype(np.float16)
                if "small" in columns:
                    values["small"] = small[s : s + CHUNK]
                copy_rows(cur, TABLE, values, s + 1)
            cur.execute(f"VACUUM ANALYZE {TABLE}")
            cur.execute(f"SELECT pg_size_pretty(pg_total_relation_size('{TABLE}'))")
            print(f"(table loaded in {time.perf_counter() - t:.0f} s, {cur.fetchone()[0]} with TOAST)", flush=True)
            cur.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
            # Parallel builds off by default: the 2 cores are shared (benchmarks and training run beside).
            cur.execute(f"SET max_parallel_maintenance_workers = {args.build_workers}")

        def build(column: str, opclass: str) -> tuple[float, str]:
            del conn.notices[:]
            t = time.perf_counter()
            cur.execute(
                f"CREATE INDEX {TABLE}_{column}_hnsw ON {TABLE} USING hnsw ({column} {opclass}) "
                f"WITH (m = {args.m}, ef_construction = {args.ef_construction})"
            )
            took = time.perf_counter() - t
            for notice in conn.notices:  # "hnsw graph no longer fits into maintenance_work_mem" and the like
                print(f"({column} build: {notice.strip()})", flush=True)
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
                own = styles[(np.argmax(queries @ np.asarray(data[::50]).T, axis=1) * 50)]
                wanted = (own + 1 + np.arange(len(queries)) % (N_STYLES - 1)) % N_STYLES
                ftruth = chunked_top_k(data, queries, K, keep=lambda a, b: styles[None, a:b] == wanted[:, None])
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

        if pg:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")  # frees disk and page cache before FAISS

        if "faiss" in args.variants:
            import faiss

            faiss.omp_set_num_threads(2)
            index = faiss.IndexHNSWFlat(1280, args.m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = args.ef_construction
            t = time.perf_counter()
            for s in range(0, args.n, 100_000):  # the index keeps its own copy; add from the memmap in slices
                index.add(np.ascontiguousarray(data[s : s + 100_000]))
            took = time.perf_counter() - t
            # The serialised size without building a second in-memory copy: the flat vectors plus the graph.
            size = f"{(index.ntotal * 1280 * 4 + faiss.vector_to_array(index.hnsw.neighbors).nbytes) / 2**20:,.0f} MB"
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
        _drop_table(conn)
    print(f"\n{load()}")


def _drop_table(conn) -> None:
    """Leave no bench table behind, also after an error or Ctrl-C mid-query (then on a new connection)."""
    import psycopg2

    try:
        conn.cancel()
        conn.rollback()
        conn.cursor().execute(f"DROP TABLE IF EXISTS {TABLE}")
    except psycopg2.Error:
        with psycopg2.connect(database_url()) as fresh, fresh.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
