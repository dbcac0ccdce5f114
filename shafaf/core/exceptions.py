"""The one exception type that services raise for a broken domain rule."""

from __future__ import annotations


class DomainError(Exception):
    """A domain rule refused the operation.

    ``code`` is stable and machine-readable; ``message`` is translated for the user;
    ``fields`` maps field names to lists of messages when the refusal is about input.
    ``status`` is the HTTP status the API answers with.
    """

    status = 400

    def __init__(self, message, *, code: str = "domain_error", fields: dict | None = None, status: int | None = None):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.fields = fields or {}
        if status is not None:
            self.status = status


class NotAllowed(DomainError):
    """The user may see the object but may not do this to it (HTTP 403)."""

    status = 403

    def __init__(self, message, *, code: str = "not_allowed", fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)


class Conflict(DomainError):
    """The object changed under the user: the operation no longer applies (HTTP 409)."""

    status = 409

    def __init__(self, message, *, code: str = "conflict", fields: dict | None = None):
        super().__init__(message, code=code, fields=fields)
