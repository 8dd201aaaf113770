"""What a person can do to a finished upload from its page: analyse it again (with the current model,
or with where the painting is in the photo) and delete it. Both answer with a redirect and a message."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from recommender import pipeline
from recommender.versions import active_version

from . import services
from .corners import CornersRejected, framing_request
from .models import Upload
from .views import upload_or_404


@login_required
@require_POST
def upload_reanalyse(request: HttpRequest, pk: int) -> HttpResponse:
    """Analyse the image again, as a new upload (this one keeps its results): with the active model,
    or with where the painting is (`framing`: "corners" with `corners`, "whole" or "auto")."""
    upload = upload_or_404(request, pk, with_results=False)
    if not upload.is_finished:
        messages.error(request, "This upload is still being analysed.")
        return redirect(upload)
    framing = request.POST.get("framing", "")
    if framing:
        try:
            corners = framing_request(framing=framing, corners=request.POST.get("corners", ""))
        except CornersRejected as exc:
            messages.error(request, str(exc))
            return redirect(upload)
        again = pipeline.upload_reanalyse(upload=upload, corners_requested=corners)
        messages.success(request, "Analysing the painting again as you set it; the earlier results stay in History.")
        return redirect(again)
    # Checked here, not on the page: the results page stays query-lean (its results are cached).
    if upload.status == Upload.Status.DONE and upload.model_version == active_version():
        messages.info(request, "These results already come from the current model.")
        return redirect(upload)
    again = pipeline.upload_reanalyse(upload=upload)
    messages.success(request, "Analysing the same image with the current model; the earlier results stay in History.")
    return redirect(again)


@login_required
@require_POST
def upload_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete one of the person's uploads with its results and its stored image."""
    upload = upload_or_404(request, pk, with_results=False)
    name = upload.original_filename or f"upload {upload.pk}"
    services.upload_delete(upload=upload)
    messages.success(request, f"Deleted “{name}” and its results.")
    return redirect("gallery:history")
