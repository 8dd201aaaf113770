"""Page-number pagination whose schema says what it accepts: `page` is an integer from 1."""

from __future__ import annotations

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.request import Request


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's, with `page` documented as an integer ≥ 1 (out of range answers 404, see gallery.api.schema)."""

    def get_page_number(self, request: Request, paginator) -> str | int:
        # DRF reads `page=` (empty) as page 1 and `page=1&page=2` as page 2; the schema says one integer.
        values = request.query_params.getlist(self.page_query_param)
        if len(values) > 1 or values == [""]:
            raise NotFound(self.invalid_page_message)
        return super().get_page_number(request, paginator)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        described = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):
            described["properties"][link]["description"] = (
                f"The {link} page of this list, or null. It opens for whoever may read this list, with the "
                "same token or session (the catalogue: anyone; your uploads: you only, others get 404)."
            )
        return described

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "Page number, from 1; a page past the last answers 404."
        return parameters
