"""Background jobs (imports, embeddings, switches): progress and retry."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .. import jobs as job_services
from ..models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Background jobs (also on the staff jobs page, /staff/jobs/, with queue lengths and ETA)."""

    list_display = ["id", "kind", "status", "progress_text", "message", "created_by", "created_at", "finished_at"]
    list_filter = ["kind", "status"]
    search_fields = ["message", "error"]
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are started by imports, switches and the embed action

    @admin.display(description="progress")
    def progress_text(self, obj: Job) -> str:
        return f"{obj.progress} / {obj.total} ({obj.percent}%)" if obj.total else str(obj.progress)

    @admin.action(description="Retry the selected failed or stalled jobs")
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        retried = sum(job_services.job_retry(job_id=pk) for pk in queryset.values_list("id", flat=True))
        messages.info(request, f"{retried} jobs queued again (only failed or stalled jobs can be retried).")
