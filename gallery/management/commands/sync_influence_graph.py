from django.core.management.base import BaseCommand

from recommender.influence_graph import graph_sync


class Command(BaseCommand):
    help = "Mirror all painters and influences from PostgreSQL into Neo4j (idempotent)."

    def handle(self, *args, **options) -> None:
        nodes, edges = graph_sync()
        self.stdout.write(self.style.SUCCESS(f"Neo4j has {nodes} painters and {edges} influence edges"))
