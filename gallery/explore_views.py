"""Exploration pages: paths between painters, palette search, the map of the catalogue.

Like gallery.views: validate the query string, call one selector, render. Nothing here imports
numpy-heavy ML or TensorFlow; palettes and map coordinates are computed by workers and commands.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from recommender import graph, map_read, palette_search
from recommender.painter_paths import DEFAULT_MAX_HOPS, MAX_HOPS_LIMIT, PathInputError, painter_path

from . import selectors
from .models import Artist

PAINTER_SUGGESTIONS = 8


def _hops(raw: str | None) -> int | None:
    """The requested bound on path length; None when it is not a whole number in range."""
    if raw in (None, ""):
        return DEFAULT_MAX_HOPS
    try:
        hops = int(raw)
    except ValueError:
        return None
    return hops if 1 <= hops <= MAX_HOPS_LIMIT else None


@require_GET
def artist_path(request: HttpRequest, slug: str) -> HttpResponse:
    """ "How is X connected to Y": the shortest influence path, with a work of each painter on it."""
    source = selectors.artist_get_by_slug(slug=slug)
    if source is None:
        raise Http404("No such painter")
    query = request.GET.get("to", "").strip()[:200]
    hops = _hops(request.GET.get("hops"))
    context: dict[str, object] = {
        "artist": source,
        "query": query,
        "hops": hops or DEFAULT_MAX_HOPS,
        "error": "",
        "path": None,
        "suggestions": [],
    }
    status = 200
    if hops is None:
        context["error"] = f"The number of steps must be a whole number from 1 to {MAX_HOPS_LIMIT}."
        status = 400
    elif query:
        target = selectors.artist_from_hint(query)
        if target is None:
            context["error"] = f"No painter called “{query}” in the catalogue."
            context["suggestions"] = list(
                Artist.objects.filter(name__icontains=query)
                .exclude(pk=source.pk)
                .order_by("name")[:PAINTER_SUGGESTIONS]
            )
            status = 404
        else:
            try:
                context["path"] = painter_path(source=source, target=target, max_hops=hops)
            except PathInputError as exc:
                context["error"] = str(exc)
                status = 400
            except graph.GraphUnavailable:
                context["error"] = "The influence graph is unavailable right now; please try again in a minute."
                status = 503
    return render(request, "gallery/explore/artist_path.html", context, status=status)


# --- Palette search -------------------------------------------------------------------------------

PALETTE_RESULTS = 48
# Slots start on colours painters use a lot, so a first search without changing anything shows something.
DEFAULT_SLOT_COLOURS = ("#2a3fa0", "#e0b02c", "#b35a3c")


def _picked_from_query(request: HttpRequest) -> list[str]:
    """Colours from `?c=#hex&c=#hex` (links, the API's style) or from the form's ticked slots (use=1&c1=...)."""
    if "c" in request.GET:
        return request.GET.getlist("c")
    return [request.GET.get(f"c{index}", "") for index in request.GET.getlist("use")[: palette_search.MAX_COLOURS + 1]]


@require_GET
def palette_search_page(request: HttpRequest) -> HttpResponse:
    """Pick up to three colours; catalogue works whose stored palettes hold them, best first."""
    submitted = "c" in request.GET or "use" in request.GET
    values = _picked_from_query(request) if submitted else []
    picked, results, error, status = [], [], "", 200
    if submitted:
        try:
            picked = palette_search.parse_colours(values)
        except ValueError as exc:
            error, status = str(exc), 400
        else:
            results = palette_search.artworks_by_palette(colours=picked, limit=PALETTE_RESULTS)
    slots = []
    for index in range(1, palette_search.MAX_COLOURS + 1):
        colour = picked[index - 1] if index <= len(picked) else None
        hex_value = colour.hex if colour else DEFAULT_SLOT_COLOURS[index - 1]
        slots.append(
            {
                "index": index,
                "hex": hex_value,
                "used": colour is not None or (not submitted and index == 1),
                "name": colour.name if colour else palette_search.colour_name(palette_search.hex_to_lab(hex_value)),
            }
        )
    context = {
        "slots": slots,
        "picked": picked,
        "results": results,
        "error": error,
        "catalogue_has_palettes": palette_search.catalogue_has_palettes() if submitted and not results else True,
    }
    return render(request, "gallery/explore/palette_search.html", context, status=status)


# --- The catalogue map ----------------------------------------------------------------------------


@require_GET
def catalogue_map_page(request: HttpRequest) -> HttpResponse:
    """The interactive map; its points come from the API (cached JSON), drawn on a canvas by catalogue_map.js.

    `?upload=<id>` (the signed-in owner's upload) places that upload on the map; `?focus=<artwork id>`
    opens the map centred on a work.
    """
    layout = map_read.map_layout_current()
    upload, position = None, None
    upload_id = request.GET.get("upload", "")
    if layout is not None and upload_id.isdigit() and request.user.is_authenticated:
        upload = selectors.upload_get(owner=request.user, pk=int(upload_id), with_results=False)
        if upload is not None and upload.embedding is not None and upload.model_version == layout.model_version:
            position = map_read.upload_position(embedding=upload.embedding, layout=layout)
    focus = request.GET.get("focus", "")
    context = {
        "layout": layout,
        "upload": upload,
        "position": position,
        "focus": int(focus) if focus.isdigit() else None,
        "upload_requested": bool(upload_id),
    }
    return render(request, "gallery/explore/catalogue_map.html", context)
