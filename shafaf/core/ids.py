"""Identifiers from URLs and request bodies."""

from __future__ import annotations

from django.http import Http404

# Primary keys are BIGINT: a larger number cannot name a row, and would be a database error rather than a 404.
_PK_LIMIT = 2**63


def pk_or_404(value) -> int:
    """`value` as a primary key, or Http404: "/api/v1/projects/abc/" or a number no row can have is not found,
    never a server error."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise Http404 from None
    if not 0 < number < _PK_LIMIT:
        raise Http404
    return number
