"""drf-spectacular post-processing: answers every paginated list can give, and blank-or-pattern strings."""

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


BLANK = {"type": "string", "maxLength": 0}


def blank_strings_any_of(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular writes a blank-allowing string with a pattern as `oneOf` [pattern, maxLength 0];
    an empty string matches both, so it violates `oneOf` (a schema-valid "" looked invalid to clients
    and to the fuzzer). `anyOf` says what is meant."""

    def walk(node):
        if isinstance(node, dict):
            if node.get("oneOf") and BLANK in node["oneOf"] and len(node["oneOf"]) == 2:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
