import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """The services' messages are read in English here; the Arabic ones are checked where a test says so."""
    with translation.override("en"):
        yield
