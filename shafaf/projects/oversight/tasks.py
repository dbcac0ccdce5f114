"""Raising alerts as a background task (django-tasks). Schedule it once a night after the rulebook's nightly
run (`manage.py raise_alerts` does the same in the foreground)."""

from django_tasks import task

from .services import alerts_raise


@task()
def alerts_raise_nightly() -> dict:
    """Runs every available alert rule over the active projects; answers the summary (raised, resolved,
    per rule, rules not available)."""
    return alerts_raise().as_dict()
