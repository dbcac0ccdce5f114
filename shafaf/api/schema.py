"""What drf-spectacular cannot infer about the API: its one error format, on every operation.

Registered as a postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]). Every operation
documents 401 and 403; those that take an id or a page number document 404, those that read parameters
or a body 400, and writes 409. Each of these answers carries the body of shafaf.api.errors.error_body.
"""

from __future__ import annotations

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable and machine-readable: validation_error, not_authenticated, "
                    "authentication_failed, permission_denied, not_allowed, not_found, conflict, …",
                },
                "message": {"type": "string", "description": "For people, in the user's language."},
                "fields": {
                    "type": "object",
                    "description": "For a refused input: each field's name and its messages.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "request_id": {"type": "string", "description": "Quote it when you report a problem."},
            },
            "required": ["code", "message", "fields", "request_id"],
        }
    },
    "required": ["error"],
}

# status: (component name, description)
ERROR_RESPONSES = {
    "400": ("ValidationError", "The request is not valid; `fields` says what is wrong with each field."),
    "401": ("NotAuthenticated", "No credentials, or an API token that is unknown or revoked."),
    "403": ("PermissionDenied", "Signed in, but not allowed to do this (or two-factor is not confirmed)."),
    "404": ("NotFound", "Nothing here, or nothing you may see."),
    "409": ("Conflict", "The object changed meanwhile and the operation no longer applies."),
}
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _statuses_for(method: str, operation: dict) -> list[str]:
    parameters = operation.get("parameters", [])
    statuses = ["401", "403"]
    # An object by its id, or a page of a list, may not be there (or not for you).
    if any(p.get("in") == "path" or p.get("name") == "page" for p in parameters):
        statuses.append("404")
    if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
        statuses.append("400")
    if method in WRITE_METHODS:
        statuses.append("409")
    return sorted(statuses)


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    responses = components.setdefault("responses", {})
    for name, description in ERROR_RESPONSES.values():
        responses[name] = {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            documented = operation.setdefault("responses", {})
            for status in _statuses_for(method, operation):
                documented.setdefault(status, {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"})
    return result
