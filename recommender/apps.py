"""The recommender app, and the one place where gallery's hand-overs are connected (gallery.handover)."""

from django.apps import AppConfig


class RecommenderConfig(AppConfig):
    name = "recommender"
    verbose_name = "Recommender"

    def ready(self) -> None:
        """Connect each hand-over to the code above gallery that takes it, once per process."""
        # Inside ready(): these modules import models, which Django allows only once apps are loaded.
        from gallery import handover

        from . import influence_graph, insights, jobs, tasks

        handover.upload_created.connect(tasks.upload_created)
        handover.artwork_needs_embedding.connect(jobs.embed_artwork_later)
        handover.job_queued.connect(jobs.job_queued)
        handover.painters_changed.connect(influence_graph.painters_changed)
        handover.upload_deleting.connect(insights.upload_deleting)
