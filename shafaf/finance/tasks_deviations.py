"""Background work of the deviations: a bulk import (IATI) queues the detection for its new projects that are
beyond a threshold, instead of running it project by project inside its own transaction."""

from django_tasks import task


@task()
def deviations_detect_projects(project_ids: list[int], actor_id: int) -> dict:
    """Runs the deviation detection on these projects as `actor_id` (the importing user). Answers {"checked",
    "deviations"}: how many projects it ran on and how many deviations they now have."""
    from shafaf.accounts.models import User
    from shafaf.projects.models import Project

    from .deviations import deviations_detect
    from .models import Deviation

    actor = User.objects.get(pk=actor_id)
    projects = list(Project.objects.filter(pk__in=project_ids).order_by("pk"))
    for project in projects:
        deviations_detect(project, actor=actor)
    return {
        "checked": len(projects),
        "deviations": Deviation.objects.filter(project_id__in=project_ids).count(),
    }
