from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from gallery.models import Artwork
from gallery.services import catalogue_import
from recommender.graph import GraphUnavailable
from recommender.influence_graph import graph_sync


class Command(BaseCommand):
    help = "Import a WikiArt-format catalogue folder (catalogue.csv, artists.csv, influences.csv, images)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory", type=Path)
        parser.add_argument("--limit", type=int, default=None, help="Import only the first N paintings")
        parser.add_argument("--no-graph", action="store_true", help="Do not write painters to Neo4j")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the catalogue has paintings")

    def handle(self, *args, directory: Path, limit: int | None, no_graph: bool, if_empty: bool, **options) -> None:
        if if_empty and Artwork.objects.exists():
            self.stdout.write(f"catalogue: {Artwork.objects.count()} paintings already imported")
            return
        if not (directory / "catalogue.csv").is_file():
            raise CommandError(f"{directory} has no catalogue.csv")
        with tqdm(desc="paintings", unit="img", disable=options["verbosity"] == 0) as bar:
            report = catalogue_import(directory=directory, limit=limit, progress=bar.update)
        for source_id, reason in report.rejected:
            self.stderr.write(f"rejected {source_id}: {reason}")
        self.stdout.write(
            f"paintings: {report.created} created, {report.updated} updated, {len(report.rejected)} rejected; "
            f"painters: {report.artists}; influences: {report.influences}"
        )
        if no_graph:
            return
        try:
            graph_sync()
        except GraphUnavailable as exc:
            # The relational import stands on its own; the graph can be rebuilt later.
            reason = str(exc) or exc.__class__.__name__
            self.stderr.write(
                self.style.WARNING(f"Neo4j not updated ({reason}); run manage.py sync_influence_graph later")
            )
        else:
            self.stdout.write(self.style.SUCCESS("influence graph synced to Neo4j"))
