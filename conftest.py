import pytest

from tests.factories import World, verified_login


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test databases come from the migrations, append-only audit triggers included; the triggers are
    then removed because Django empties every table between transactional tests. The tests of the
    triggers themselves install them again (shafaf.audit.triggers.install) inside their own test."""
    from django.db import connection

    from shafaf.audit import triggers

    with django_db_blocker.unblock():
        triggers.remove(connection)
        # The ledger's append-only triggers too on SQLite, whose flush deletes rows (PostgreSQL truncates, which
        # fires no row trigger, so there they stay, with the balance check at commit; shafaf/finance/triggers.py).
        if connection.vendor == "sqlite":
            from shafaf.finance import triggers as ledger_triggers

            ledger_triggers.remove(connection)


@pytest.fixture
def world(db):
    return World()


@pytest.fixture
def login(client):
    """login(user) signs the test client in, two-factor confirmed."""

    def _login(user):
        verified_login(client, user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # Argon2 is the production hasher (tested in accounts); MD5 keeps the persona factories fast.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Uploaded documents go to a temporary directory, never to var/media (for the whole session, so that
    module-scoped worlds find their files too)."""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media"))):
        yield


@pytest.fixture(scope="session", autouse=True)
def _immediate_tasks():
    """Background tasks run at once, in the test's transaction (for the whole session, so that module-scoped
    fixtures that import data see the work their import queues, such as the deviation detection)."""
    from django.test import override_settings

    with override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}):
        yield


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language (Arabic): a request in another language earlier in the
    same thread must not decide what a later test's messages are written in."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()
