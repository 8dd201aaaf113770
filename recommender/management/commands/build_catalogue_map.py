from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommender import versions
from recommender.catalogue_map import TOTAL_ITERATIONS, NotEnoughPoints, catalogue_map_build
from recommender.models import MapLayout


class Command(BaseCommand):
    help = (
        "Compute the 2-D map (t-SNE) of the catalogue embeddings of the active style model (or --model-version) "
        "and store it, replacing that version's previous map. Re-run after embedding new works."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--model-version",
            dest="model_version",
            default=None,
            help="model version of the embeddings (default: active)",
        )
        parser.add_argument("--perplexity", type=float, default=30.0)
        parser.add_argument("--seed", type=int, default=20261126)
        parser.add_argument(
            "--if-missing", action="store_true", help="do nothing when the version already has a map (make run)"
        )

    def handle(self, *args, model_version: str | None, perplexity: float, seed: int, **options) -> None:
        version = model_version or versions.ensure_active_recorded()
        if options["if_missing"] and MapLayout.objects.filter(model_version=version).exists():
            self.stdout.write(f"map: {version} has one already")
            return
        quiet = options["verbosity"] == 0
        with tqdm(total=TOTAL_ITERATIONS, unit="it", desc="t-SNE", disable=quiet) as bar:
            try:
                layout = catalogue_map_build(
                    version=version,
                    perplexity=perplexity,
                    seed=seed,
                    log=None if quiet else self.stdout.write,
                    progress=bar.update,
                )
            except NotEnoughPoints as exc:
                raise CommandError(f"{exc}; run `manage.py embed_catalogue` first") from exc
        self.stdout.write(
            self.style.SUCCESS(f"map: {layout.point_count} works laid out in {layout.seconds:.1f} s ({layout.method})")
        )
