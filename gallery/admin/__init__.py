"""The curators' admin, one module per area; importing this package registers every ModelAdmin.

Painter and influence edits go through `gallery.services`, so the Neo4j mirror follows them
(gallery.handover); a new or replaced painting is embedded by a worker after commit.
"""

from django.contrib import admin

from . import artworks, jobs, model_versions, painters, signin, styles, uploads  # noqa: F401 - they register

admin.site.site_header = "artsite catalogue"
admin.site.site_title = "artsite admin"
admin.site.index_title = "Catalogue and uploads"
