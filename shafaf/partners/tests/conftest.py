import pytest


@pytest.fixture
def english(world):
    """For tests that read the English messages: every user reads English, and so does the code that runs
    outside a request (services, commands)."""
    from django.utils import translation

    from shafaf.accounts.models import User

    User.objects.update(language="en")
    with translation.override("en"):
        yield
