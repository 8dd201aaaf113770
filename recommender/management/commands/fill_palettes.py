from django.core.management.base import BaseCommand
from tqdm import tqdm

from gallery.models import Artwork
from recommender.palette import artworks_needing_palette, catalogue_fill_palettes


class Command(BaseCommand):
    help = (
        "Compute the dominant colours and the perceptual hash of every catalogue work that lacks them "
        "(resumable: interrupt and re-run). --recompute redoes all of them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--recompute", action="store_true", help="recompute every palette")
        parser.add_argument("--limit", type=int, default=None, help="at most this many works")

    def handle(self, *args, recompute: bool, limit: int | None, **options) -> None:

        todo = (Artwork.objects if recompute else artworks_needing_palette()).count()
        if limit is not None:
            todo = min(todo, limit)
        if todo == 0:
            self.stdout.write("palettes: every artwork has one")
            return
        self.stdout.write(f"palettes: {todo} artworks to analyse")
        with tqdm(total=todo, unit="img", disable=options["verbosity"] == 0) as bar:
            report = catalogue_fill_palettes(recompute=recompute, limit=limit, progress=bar.update)
        for artwork_id, reason in report.failed:
            self.stderr.write(f"artwork {artwork_id}: no palette: {reason}")
        rate = report.computed / report.seconds if report.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(f"palettes: {report.computed} computed in {report.seconds:.1f} s ({rate:.1f} images/s)")
        )
