"""Coordination's background work (django-tasks). `coordination_scan_nightly` runs once a night
(`manage.py run_nightly`, or `manage.py coordination_scan` in the foreground); `coordination_scan_run` runs a scan
the ministry started from its page (services.scan_start)."""

from django_tasks import task


@task()
def coordination_scan_run(run_id: int) -> dict:
    """Runs the queued scan `run_id` (no output file: its pairs are kept as ScanPair rows). Answers its counts."""
    from .models import ScanRun
    from .services import scan_execute

    run = ScanRun.objects.select_related("model_version", "started_by").get(pk=run_id)
    if run.status != ScanRun.Status.RUNNING:
        return {"run": run.pk, "status": run.status}
    run = scan_execute(run=run)
    return _summary(run)


@task()
def coordination_signatures_refresh(project_ids: list[int]) -> dict:
    """Makes or brings up to date the coordination signatures of these projects. A bulk import (IATI) queues this
    for its new projects instead of computing them inside its own transaction; until the worker has run it the
    projects are simply not yet candidates, and the nightly scan refreshes any signature still missing. Answers
    {"created", "updated"}."""
    from shafaf.projects.models import Project

    from .signature import signatures_refresh

    return signatures_refresh(Project.objects.filter(pk__in=project_ids))


@task()
def coordination_scan_nightly() -> dict:
    """The nightly scan of the whole corpus: stale signatures refreshed, every cross-charity pair at or above
    "possible overlap" kept, the new ones flagged. Answers {"run", "records", "pairs", "likely", "new_pairs"}."""
    return coordination_scan_nightly_now()


def coordination_scan_nightly_now() -> dict:
    from .services import scan_run_now

    return _summary(scan_run_now())


def _summary(run) -> dict:
    return {
        "run": run.pk,
        "status": run.status,
        "records": run.records,
        "pairs": run.pairs,
        "likely": run.likely,
        "new_pairs": run.new_pairs,
    }
