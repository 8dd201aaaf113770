from django.core.management.base import BaseCommand
from tqdm import tqdm

from recommender.embeddings import artworks_needing_embedding, catalogue_embed
from recommender.ml.style_model import get_style_model


class Command(BaseCommand):
    help = "Compute the embedding of every artwork that has none or one from an older model version."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch", type=int, default=32)
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args, batch: int, limit: int | None, **options) -> None:
        model = get_style_model()
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
