"""`manage.py prune_embeddings`: drop the kept vectors of retired style-model versions.

After a switch the outgoing vectors stay in ArtworkEmbedding so that switching back is a copy, not
a re-embedding; once the new version has proven itself, this frees the space (~5 KB per work and
version). VACUUM afterwards returns it to the operating system's free space map sooner.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from recommender import versions


class Command(BaseCommand):
    help = "Delete staged/kept catalogue embeddings of every version that is neither active nor being switched to."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--keep", action="append", default=[], help="a retired version to keep (repeatable)")

    def handle(self, *args, keep: list[str], **options) -> None:
        deleted = versions.versions_prune(keep=tuple(keep))
        self.stdout.write(self.style.SUCCESS(f"embeddings: {deleted} vectors of retired versions deleted"))
