"""The only module that talks to Neo4j: the painters' influence graph.

Nodes are painters (label from settings.NEO4J_ARTIST_LABEL, unique `key` = the artist's slug, plus
`name`); `(a)-[:INFLUENCED_BY]->(b)` means a was influenced by b. The driver is created lazily
once per process and closed at exit. Writes are batched with UNWIND and idempotent (MERGE).
"""

from __future__ import annotations

import atexit
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import ConnectionPoolError, DatabaseUnavailable, ServiceUnavailable, SessionExpired


class GraphUnavailable(Exception):
    """Neo4j cannot be reached or cannot serve now; callers may degrade (visual-only ranking, repair later).

    Raised only for connection and availability failures. A Cypher error, a constraint violation, a
    bad password or a misused driver propagates as the driver's own exception: that is a bug or a
    misconfiguration to fix, not an outage to hide behind a fallback.
    """


# The driver's errors that mean "not reachable / not serving now" (wrapped into GraphUnavailable).
_UNAVAILABLE = (ServiceUnavailable, SessionExpired, ConnectionPoolError, DatabaseUnavailable, OSError)

BATCH_SIZE = 1000
# After a connection failure, calls fail at once for this long instead of each waiting for the
# connect timeout: pages and tasks fall back to visual ranking without hanging during an outage.
RETRY_AFTER_S = 30.0
_driver: Driver | None = None
_lock = threading.Lock()
_down_until = 0.0


def _label() -> str:
    label = settings.NEO4J_ARTIST_LABEL
    # Labels cannot be query parameters, so the settings value is checked before interpolation.
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", label):
        raise ValueError(f"NEO4J_ARTIST_LABEL must be an identifier, got {label!r}")
    return label


def get_driver() -> Driver:
    global _driver
    with _lock:
        if _driver is None:
            _driver = GraphDatabase.driver(
                settings.NEO4J_URI,
                auth=(settings.NEO4J_USER, settings.NEO4J_PASSWORD),
                connection_timeout=settings.NEO4J_TIMEOUT_S,
                connection_acquisition_timeout=settings.NEO4J_TIMEOUT_S,
                max_transaction_retry_time=settings.NEO4J_TIMEOUT_S,
            )
        return _driver


def close_driver() -> None:
    """Close the driver and forget any recent failure (settings may point elsewhere now)."""
    global _driver, _down_until
    with _lock:
        if _driver is not None:
            _driver.close()
            _driver = None
        _down_until = 0.0


atexit.register(close_driver)


def _run(query: str, **params) -> list[dict]:
    """Run one query; raises GraphUnavailable for outages and the driver's error for anything else."""
    global _down_until
    if time.monotonic() < _down_until:
        raise GraphUnavailable("Neo4j failed moments ago; not retrying yet")
    try:
        records, _, _ = get_driver().execute_query(query, params, database_=settings.NEO4J_DATABASE)
    except _UNAVAILABLE as exc:
        _down_until = time.monotonic() + RETRY_AFTER_S
        raise GraphUnavailable(f"Neo4j unavailable: {exc}") from exc
    return [record.data() for record in records]


def _batches(rows: Sequence, size: int = BATCH_SIZE) -> Iterable[Sequence]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def ping() -> bool:
    try:
        get_driver().verify_connectivity()
    except _UNAVAILABLE:
        return False
    return True


def ensure_schema() -> None:
    label = _label()
    _run(f"CREATE CONSTRAINT {label.lower()}_key_unique IF NOT EXISTS FOR (a:{label}) REQUIRE a.key IS UNIQUE")


def upsert_artists(artists: Sequence[tuple[str, str]]) -> None:
    """MERGE painters given as (key, name) pairs."""
    label = _label()
    rows = [{"key": key, "name": name} for key, name in artists]
    for batch in _batches(rows):
        _run(f"UNWIND $rows AS row MERGE (a:{label} {{key: row.key}}) SET a.name = row.name", rows=batch)


def upsert_influences(edges: Sequence[tuple[str, str]]) -> None:
    """MERGE `(artist)-[:INFLUENCED_BY]->(influencer)` for (artist_key, influencer_key) pairs.

    Both painters must exist already (upsert_artists first); unknown keys are skipped by MATCH.
    """
    label = _label()
    rows = [{"a": a, "b": b} for a, b in edges]
    for batch in _batches(rows):
        _run(
            f"UNWIND $rows AS row MATCH (a:{label} {{key: row.a}}) MATCH (b:{label} {{key: row.b}}) "
            "MERGE (a)-[:INFLUENCED_BY]->(b)",
            rows=batch,
        )


def delete_influence(artist_key: str, influencer_key: str) -> None:
    label = _label()
    _run(
        f"MATCH (:{label} {{key: $a}})-[r:INFLUENCED_BY]->(:{label} {{key: $b}}) DELETE r",
        a=artist_key,
        b=influencer_key,
    )


def delete_artist(key: str) -> None:
    _run(f"MATCH (a:{_label()} {{key: $key}}) DETACH DELETE a", key=key)


def counts() -> tuple[int, int]:
    """(painters, influence edges) in the graph."""
    label = _label()
    nodes = _run(f"MATCH (a:{label}) RETURN count(a) AS n")[0]["n"]
    edges = _run(f"MATCH (:{label})-[r:INFLUENCED_BY]->(:{label}) RETURN count(r) AS n")[0]["n"]
    return nodes, edges


def clear() -> None:
    """Remove every painter node of the configured label (tests and re-imports)."""
    _run(f"MATCH (a:{_label()}) DETACH DELETE a")


@dataclass(frozen=True)
class InfluencePath:
    """A shortest path between two painters, ignoring direction, with the direction of each step."""

    names: list[str]
    # steps[i] is True when names[i] was influenced by names[i+1], False for the other way round.
    steps: list[bool]

    @property
    def length(self) -> int:
        return len(self.steps)

    def describe(self) -> list[str]:
        """["Georges Seurat", "influenced by", "Camille Pissarro", ...] for pages and the API."""
        out = [self.names[0]]
        for forward, name in zip(self.steps, self.names[1:], strict=True):
            out += ["influenced by" if forward else "influenced", name]
        return out


def shortest_paths(source_key: str, target_keys: Iterable[str], max_hops: int = 4) -> dict[str, InfluencePath]:
    """Shortest influence paths (either direction, ≤ max_hops) from one painter to many, in one query.

    Targets that are unknown, unreachable or equal to the source are absent from the result.
    """
    targets = sorted({key for key in target_keys if key and key != source_key})
    if not source_key or not targets:
        return {}
    label = _label()
    hops = int(max_hops)
    rows = _run(
        f"MATCH (a:{label} {{key: $source}}) "
        f"UNWIND $targets AS target MATCH (b:{label} {{key: target}}) "
        f"MATCH p = shortestPath((a)-[:INFLUENCED_BY*..{hops}]-(b)) "
        "RETURN target, [n IN nodes(p) | n.name] AS names, "
        "[i IN range(0, length(p) - 1) | startNode(relationships(p)[i]) = nodes(p)[i]] AS steps",
        source=source_key,
        targets=targets,
    )
    return {row["target"]: InfluencePath(names=row["names"], steps=row["steps"]) for row in rows}


def influences_of(key: str) -> dict[str, list[str]]:
    """Names of the painters who influenced `key` and of those it influenced."""
    label = _label()
    rows = _run(
        f"MATCH (a:{label} {{key: $key}}) "
        f"OPTIONAL MATCH (a)-[:INFLUENCED_BY]->(b:{label}) WITH a, collect(b.name) AS by "
        f"OPTIONAL MATCH (c:{label})-[:INFLUENCED_BY]->(a) RETURN by, collect(c.name) AS on",
        key=key,
    )
    if not rows:
        return {"influenced_by": [], "influenced": []}
    return {"influenced_by": sorted(rows[0]["by"]), "influenced": sorted(rows[0]["on"])}


def influence_path_between(source_key: str, target_key: str, max_hops: int) -> tuple[list[str], InfluencePath] | None:
    """The shortest influence path between two painters, following edges in either direction.

    Returns the painters' keys along the path with the path itself, or None when either painter is
    unknown to the graph or no path of at most `max_hops` steps joins them. The bound keeps the
    search cheap on a dense graph and the answer meaningful ("connected within N steps").
    """
    hops = int(max_hops)
    if hops < 1:
        raise ValueError(f"max_hops must be at least 1, got {max_hops!r}")
    if not source_key or not target_key or source_key == target_key:
        return None
    label = _label()
    rows = _run(
        f"MATCH (a:{label} {{key: $source}}), (b:{label} {{key: $target}}) "
        f"MATCH p = shortestPath((a)-[:INFLUENCED_BY*..{hops}]-(b)) "
        "RETURN [n IN nodes(p) | n.key] AS keys, [n IN nodes(p) | n.name] AS names, "
        "[i IN range(0, length(p) - 1) | startNode(relationships(p)[i]) = nodes(p)[i]] AS steps",
        source=source_key,
        target=target_key,
    )
    if not rows:
        return None
    return rows[0]["keys"], InfluencePath(names=rows[0]["names"], steps=rows[0]["steps"])
