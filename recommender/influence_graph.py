"""The Neo4j mirror of painters and influences: PostgreSQL is the truth, this keeps the graph in step.

`graph_sync` rebuilds the mirror from the database (after an import, `manage.py sync_influence_graph`);
`painters_changed` applies one edit (gallery.services → gallery.handover.painters_changed) after its
transaction commits. If Neo4j is down the edit is kept and logged; `sync_influence_graph` repairs.
"""

from __future__ import annotations

import logging

from django.db import transaction

from gallery.handover import PainterChange
from gallery.models import Artist, Influence

from . import graph

logger = logging.getLogger(__name__)


def graph_sync() -> tuple[int, int]:
    """Mirror every painter and influence of the database into Neo4j (MERGE, batched); (nodes, edges).

    Raises graph.GraphUnavailable when Neo4j cannot be reached.
    """
    graph.ensure_schema()
    graph.upsert_artists(list(Artist.objects.values_list("slug", "name")))
    graph.upsert_influences(list(Influence.objects.values_list("artist__slug", "influencer__slug")))
    return graph.counts()


def painters_changed(*, change: PainterChange) -> None:
    """The hand-over's handler: mirror `change` once the writer's transaction commits."""

    def mirror() -> None:
        try:
            if change.artists:
                graph.upsert_artists(change.artists)
            for edge in change.influences_removed:
                graph.delete_influence(*edge)
            if change.influences:
                graph.upsert_influences(change.influences)
            for key in change.artists_removed:
                graph.delete_artist(key)
        except graph.GraphUnavailable:
            # The database row is saved regardless; the admin warns and sync_influence_graph repairs.
            logger.exception("influence graph update failed; run manage.py sync_influence_graph")

    transaction.on_commit(mirror)
