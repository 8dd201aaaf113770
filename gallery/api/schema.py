"""drf-spectacular post-processing: answers every paginated list can give, written once for all."""

from __future__ import annotations

NOT_FOUND_PAGE = {
    "description": 'No such page (past the last one): `{"detail": "Invalid page."}`.',
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def document_pagination_errors(result: dict, generator, request, public: bool) -> dict:
    """A `page` past the last answers 404 (DRF's NotFound): say so on every paginated operation."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "page" in names:
                operation["responses"].setdefault("404", NOT_FOUND_PAGE)
    return result
