"""One error format for the whole API:

{"error": {"code": "validation_error", "message": "…", "fields": {"field": ["…"]}, "request_id": "…"}}
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shafaf.core import context
from shafaf.core.exceptions import DomainError


def error_body(code: str, message, fields: dict | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": str(message),
            "fields": {
                str(k): [str(m) for m in (v if isinstance(v, (list, tuple)) else [v])]
                for k, v in (fields or {}).items()
            },
            "request_id": context.get_request_id(),
        }
    }


def _flatten(detail, prefix="") -> dict:
    out = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(key, int):
                # DRF reports a nested list's errors as {index: {...}}; name them locations[0].latitude,
                # as the services do, so one field has one name whichever layer refuses it.
                name = f"{prefix}[{key}]"
            if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], (dict, list))):
                out.update(_flatten(value, name))
            else:
                out[name] = value if isinstance(value, list) else [value]
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out.update(_flatten(value, f"{prefix}[{index}]"))
            else:
                out.setdefault(prefix or "non_field_errors", []).append(value)
    return out


def exception_handler(exc, ctx):
    if isinstance(exc, DomainError):
        fields = exc.fields
        if "__all__" in fields:
            fields = dict(fields)
            fields["non_field_errors"] = fields.pop("__all__")
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, ctx)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("validation_error", _("Please correct the errors below."), _flatten(exc.detail))
        return response
    detail = getattr(exc, "detail", "")
    code = getattr(exc, "default_code", "error")
    if isinstance(detail, exceptions.ErrorDetail):
        code = detail.code or code
    response.data = error_body(str(code), detail if isinstance(detail, str) else _("Request failed."))
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Bearer"
    return response


def page_not_found(request, exception):
    """Django's 404 handler (config/urls.py): an unknown URL under /api/ answers in the API's error format."""
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            error_body("not_found", exceptions.NotFound.default_detail),
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    from django.views.defaults import page_not_found as default_page_not_found

    return default_page_not_found(request, exception)
