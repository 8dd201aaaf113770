"""Operations endpoints: health for load balancers, Prometheus metrics, the staff jobs page."""

from django.urls import path

from artsite import health, metrics
from gallery import jobs_views

urlpatterns = [
    path("health/", health.HealthView.as_view(), name="health"),
    path("health/live/", health.live, name="health_live"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("staff/jobs/", jobs_views.jobs_page, name="jobs"),
    path("staff/jobs/<int:job_id>/retry/", jobs_views.job_retry, name="job_retry"),
    path("staff/artworks/<int:artwork_id>/embed/", jobs_views.artwork_embed_retry, name="artwork_embed_retry"),
]
