"""Identifiers from URLs: anything that cannot name a row is "not found", never a server error."""

import pytest
from django.http import Http404

from shafaf.core.ids import pk_or_404


@pytest.mark.parametrize("value", ["abc", "", None, "1.5", 0, -3, 2**63, "9" * 40, float("inf")])
def test_what_cannot_name_a_row_is_not_found(value):
    with pytest.raises(Http404):
        pk_or_404(value)


def test_a_key_is_read_as_an_integer():
    assert pk_or_404("12") == 12 and pk_or_404(2**63 - 1) == 2**63 - 1
