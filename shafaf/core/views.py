"""Helpers every app's views share."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from shafaf.core.exceptions import DomainError


def apply_domain_error(form, error: DomainError) -> None:
    """Puts a service's refusal onto the form: field errors where the form has the field, the rest on top."""
    placed = False
    for field, field_messages in (error.fields or {}).items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)


def refuse_on_form(form, error: DomainError) -> int:
    """A service's refusal, on a page with a form: a 403 becomes Django's PermissionDenied; anything else is put
    onto the form (apply_domain_error) and its HTTP status is answered, for the page to render the form again."""
    if error.status == 403:
        raise PermissionDenied(error.message) from error
    apply_domain_error(form, error)
    return error.status


def upload_too_large(form, upload, limit_bytes: int, field: str = "file") -> bool:
    """True, with the field's error on the form, when an uploaded file is over the import's limit."""
    from shafaf.interop.rows import too_large_message

    if upload.size <= limit_bytes:
        return False
    form.add_error(field, too_large_message(limit_bytes))
    return True


def run_upload_import(request, form, limit_bytes: int, run):
    """The POST of an import page whose service answers a report with ``file_errors`` (partners, projects): checks
    the form and the upload's size, calls ``run(upload)``, and puts the report's file errors, or the service's
    refusal, onto the form. Answers (the report or None, the page's HTTP status)."""
    if request.method != "POST":
        return None, 200
    if not form.is_valid():
        return None, 400
    upload = form.cleaned_data["file"]
    if upload_too_large(form, upload, limit_bytes):
        return None, 400
    try:
        report = run(upload)
    except DomainError as refused:
        return None, refuse_on_form(form, refused)
    for message in report.file_errors:
        form.add_error("file", message)
    return report, 400 if report.file_errors else 200


def htmx_template(request, full: str, partial: str) -> str:
    """The same view renders the whole page, or only the part htmx asked for."""
    return partial if getattr(request, "htmx", False) and not request.htmx.boosted else full


def flash_saved(request) -> None:
    messages.success(request, _("Saved."))


def stored_file_response(field_file, *, name: str, content_type: str | None = None):
    """A stored upload as a download named `name` + its extension (404 when the file is gone), never sniffed as
    something else by the browser. Without a content type, one is guessed from the file's name."""
    from django.http import FileResponse, Http404

    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    extension = field_file.name.rsplit(".", 1)[-1] if "." in field_file.name else "bin"
    response = FileResponse(handle, as_attachment=True, filename=f"{name}.{extension}", content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
