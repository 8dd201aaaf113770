from django.core.management import call_command
from django.core.management.base import BaseCommand
from tqdm import tqdm

from recommender.embeddings import artworks_needing_embedding, catalogue_embed
from recommender.versions import active_style_model, default_version, ensure_active_recorded


class Command(BaseCommand):
    help = (
        "Compute the active style model's embedding of every artwork that has none (or an older one). "
        "To move to another model version use activate_style_model."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=32)
        parser.add_argument("--limit", type=int, default=None)
        parser.add_argument(
            "--follow-configured",
            action="store_true",
            help="when CURRENT names another model than the active one, switch to it first (make run does: "
            "the committed model is the one to serve)",
        )

    def handle(self, *args, batch: int, limit: int | None, follow_configured: bool, **options) -> None:
        ensure_active_recorded()  # the first run pins the configured model as the active version
        model = active_style_model()
        configured = default_version()
        if configured != model.version and follow_configured:
            # The same switch as the admin's: the new vectors are computed beside the old ones, then flipped.
            self.stdout.write(f"embeddings: switching from {model.version} to the configured {configured}")
            call_command("activate_style_model", configured, foreground=True, stdout=self.stdout)
            model = active_style_model()
        elif configured != model.version:
            # A newer artefact was trained (CURRENT moved) but the site still serves the active one.
            self.stdout.write(
                self.style.WARNING(
                    f"embeddings: the configured model is {configured}, the active one {model.version}; "
                    f"switch with: manage.py activate_style_model {configured}"
                )
            )
        todo = artworks_needing_embedding(model.version).count()
        if limit is not None:
            todo = min(todo, limit)
        if todo == 0:
            self.stdout.write(f"embeddings: all artworks embedded with {model.version}")
            return
        self.stdout.write(f"embeddings: {todo} artworks to embed with {model.version}")
        with tqdm(total=todo, unit="img", disable=options["verbosity"] == 0) as bar:
            report = catalogue_embed(model=model, batch=batch, limit=limit, progress=bar.update)
        for artwork_id, reason in report.failed:
            self.stderr.write(f"artwork {artwork_id} not embedded: {reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"embeddings: {report.embedded} embedded in {report.seconds:.1f} s "
                f"({report.images_per_second:.1f} images/s){', HNSW index rebuilt' if report.index_rebuilt else ''}"
            )
        )
