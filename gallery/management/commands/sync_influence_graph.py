from django.core.management.base import BaseCommand

from gallery.services import influence_graph_sync


class Command(BaseCommand):
    help = "Mirror all painters and influences from PostgreSQL into Neo4j (idempotent)."

    def handle(self, *args, **options) -> None:
        nodes, edges = influence_graph_sync()
        self.stdout.write(self.style.SUCCESS(f"Neo4j has {nodes} painters and {edges} influence edges"))
