"""Background work of the screening: re-screening every partner after a new list version is loaded
(enqueued on commit by shafaf.partners.sanctions.sanctions_import)."""

from django_tasks import task

from .choices import ScreeningTrigger


@task()
def rescreen_partners(version_id: int | None = None) -> dict:
    """Re-screens every active partner against the current list versions and raises the alerts of the projects
    whose partner got a new open hit; answers the summary (partners, screenings, new hits, projects alerted)."""
    from .screening import screen_all_partners

    summary = screen_all_partners(actor=None, trigger=ScreeningTrigger.LIST_UPDATE)
    summary["version"] = version_id
    return summary
