"""The ministry rulebook over many projects: the nightly run (evaluate, store, audit) and the evaluation alone.

    .venv/bin/python bench/rulebook.py [--projects 2000]

The projects are bulk-inserted (submitted, under review, approved and in execution, with a location and,
for most, a foreign implementing partner), so that the run measures the checks, not the seeding. Figures:
the pure evaluation (engine.evaluate, no writes), the stored run as the nightly task makes it
(services.rulebook_run_batch: one transaction, run row, result rows and audit event per project), and one
project's approval-stage run (median of 50), each with its queries.
"""

import argparse
import datetime as dt
import random
import statistics
import time

from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=2_000)
    args = parser.parse_args()
    machine = setup()

    from contextlib import contextmanager

    from django.db import connection, transaction

    from shafaf.accounts.models import Membership, Organization, User
    from shafaf.audit.models import AuditEvent
    from shafaf.projects.models import Project, ProjectLocation
    from shafaf.projects.rulebook import engine, selectors, services
    from shafaf.projects.rulebook.models import CheckResultRecord, RulebookRun

    @contextmanager
    def counting():
        """Counts the queries sent (without keeping them, unlike CaptureQueriesContext's 9,000 limit)."""
        counter = [0]

        def wrapper(execute, sql, params, many, context):
            counter[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(wrapper):
            yield counter

    rng = random.Random(11)
    charities = [
        Organization.objects.create(kind="charity", slug=f"c{i}", name_ar=f"جمعية {i}", name_en=f"Charity {i}")
        for i in range(10)
    ]
    partners = [
        Organization.objects.create(
            kind="partner", slug=f"p{i}", name_ar=f"شريك {i}", name_en=f"Partner {i}", is_active=i != 0
        )
        for i in range(8)
    ]
    admin = User.objects.create(username="admin0")
    Membership.objects.create(user=admin, organization=charities[0], role="charity_admin")

    started = time.perf_counter()
    statuses = ["submitted", "under_review", "approved", "in_execution"]
    with transaction.atomic():
        batch = []
        for number in range(args.projects):
            start = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(700))
            status = statuses[number % 4]
            licensed = status in ("approved", "in_execution")
            batch.append(
                Project(
                    reference=f"PRJ-2027-{number + 1:06d}",
                    charity=charities[number % 10],
                    title_ar=f"حفر بئر رقم {number}",
                    title_en=f"Well number {number}",
                    description_ar="حفر بئر لتوفير مياه الشرب.",
                    project_model=rng.choice(["construction_external", "sponsorship_external", "various"]),
                    sector=rng.choice(["14030", "72010", "11220", "12220"]),
                    country=rng.choice(["SD", "YE", "JO", "LB", "SO"]),
                    beneficiary_group=rng.choice(["families", "orphans", "students"]),
                    beneficiary_count=rng.randrange(50, 30_000),
                    planned_start=start,
                    planned_end=start + dt.timedelta(days=rng.choice([180, 365, 730, 2000])),
                    implementing_partner=rng.choice(partners) if number % 10 else None,
                    status=status,
                    licence_number=f"LIC-{number:06d}" if licensed else "",
                    licence_date=dt.date(2026, 6, 1) if licensed else None,
                    created_by=admin,
                )
            )
        projects = Project.objects.bulk_create(batch)
        ProjectLocation.objects.bulk_create(
            ProjectLocation(project=project, admin_area_ar="منطقة", admin_area_en=f"Area {project.pk}")
            for project in projects
        )
    print(f"machine: {machine}")
    print(f"inserted {args.projects:,} projects in {time.perf_counter() - started:.1f} s")

    # 1. The evaluation alone (what a preview costs): no writes.
    settings = selectors.effective_settings()
    queryset = services.projects_for_batch(statuses=services.NIGHTLY_STATUSES)
    with counting() as captured:
        began = time.perf_counter()
        evaluated = failing = 0
        for project in queryset.iterator(chunk_size=200):
            results = engine.evaluate(project, stage="nightly", settings=settings)
            evaluated += 1
            failing += bool(engine.blocking_failures(results))
        seconds = time.perf_counter() - began
    print(
        f"evaluate only (nightly)    {evaluated:,} projects in {seconds:6.2f} s  "
        f"{evaluated / seconds:8,.0f} projects/s  {captured[0]} queries in all  ({failing:,} with blocking failures)"
    )

    # 2. The nightly run as the task makes it: evaluate, store, audit, one transaction per project.
    with counting() as captured:
        summary = services.rulebook_run_batch(stage="nightly")
    print(
        f"stored nightly run         {summary.projects:,} projects in {summary.seconds:6.2f} s  "
        f"{summary.per_second:8,.0f} projects/s  {captured[0] / summary.projects:.1f} queries per project"
    )
    print(
        f"  stored: {RulebookRun.objects.count():,} runs, {CheckResultRecord.objects.count():,} results, "
        f"{AuditEvent.objects.filter(action='project.rulebook_run').count():,} audit events; "
        f"{summary.passed:,} passed, {summary.with_blocking_failures:,} with blocking failures, "
        f"{summary.with_warnings:,} with warnings"
    )

    # 3. One project at approval, as the lifecycle calls it (settings read each time).
    project = Project.objects.filter(status="under_review").first()
    timings, queries = [], 0
    for _ in range(50):
        with counting() as captured:
            began = time.perf_counter()
            services.rulebook_run(actor=admin, project=Project.objects.get(pk=project.pk), stage="approval")
            timings.append(time.perf_counter() - began)
        queries = captured[0]
    print(f"one project at approval    median {statistics.median(timings) * 1000:6.1f} ms  {queries} queries")


if __name__ == "__main__":
    main()
