"""The partners' background work (django-tasks). Schedule `accreditations_expire_nightly` once a night
(`manage.py expire_accreditations` does the same in the foreground)."""

from django_tasks import task

from .services import expire_and_raise_alerts


@task()
def accreditations_expire_nightly() -> dict:
    """Active and suspended accreditations whose validity has ended become expired; then the alerts of the
    projects implemented by the partners affected are raised (shafaf.projects.oversight). Answers
    {"expired", "partners", "projects", "alerts"}."""
    return expire_and_raise_alerts()
