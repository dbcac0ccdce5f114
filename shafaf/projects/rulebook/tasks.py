"""The nightly run of the rulebook, as a background task (django-tasks). Schedule it once a night (cron or
the platform's scheduler: `manage.py run_rulebook` does the same in the foreground, with progress)."""

from django_tasks import task

from .models import Stage
from .services import NIGHTLY_STATUSES, rulebook_run_batch


@task()
def rulebook_nightly() -> dict:
    """Runs the "nightly" stage over every project submitted, under review, approved or in execution, and
    answers a summary (projects, passed, with blocking failures, with warnings, seconds)."""
    return rulebook_run_batch(stage=Stage.NIGHTLY, statuses=NIGHTLY_STATUSES).as_dict()
