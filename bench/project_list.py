"""Project lists at scale: 100,000 projects across 20 charities, read by the ministry and by one charity.

    .venv/bin/python bench/project_list.py [--projects 100000]

The rows are bulk-inserted (the benchmark measures reads); pages and API are called in-process with
Django's test client, so the figures include middleware, templates and serializers but no network.
"""

import argparse
import datetime as dt
import random
import statistics
import time

from _django import setup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    machine = setup()

    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from shafaf.accounts.models import Membership, Organization, User
    from shafaf.projects.models import Project
    from tests.factories import verified_login

    rng = random.Random(7)
    mosa = Organization.objects.create(
        kind="authority", authority_code="MOSA", slug="mosa", name_ar="الوزارة", name_en="MOSA"
    )
    charities = [
        Organization.objects.create(kind="charity", slug=f"c{i}", name_ar=f"جمعية {i}", name_en=f"Charity {i}")
        for i in range(20)
    ]
    reviewer = User.objects.create(username="reviewer")
    Membership.objects.create(user=reviewer, organization=mosa, role="ministry_reviewer")
    admin = User.objects.create(username="admin0")
    Membership.objects.create(user=admin, organization=charities[0], role="charity_admin")

    started = time.perf_counter()
    batch = []
    with transaction.atomic():
        for number in range(args.projects):
            start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(700))
            batch.append(
                Project(
                    reference=f"PRJ-2026-{number + 1:06d}",
                    charity=charities[number % 20],
                    title_ar=f"حفر بئر رقم {number}",
                    title_en=f"Well number {number}",
                    project_model="construction_external",
                    sector=rng.choice(["14030", "72010", "11220", "12220"]),
                    country=rng.choice(["SD", "YE", "JO", "LB", "SO"]),
                    beneficiary_group="families",
                    beneficiary_count=rng.randrange(50, 5000),
                    planned_start=start,
                    planned_end=start + dt.timedelta(days=365),
                    created_by=admin,
                )
            )
            if len(batch) == 5000:
                Project.objects.bulk_create(batch)
                batch.clear()
        Project.objects.bulk_create(batch)
    print(f"machine: {machine}")
    print(f"inserted {args.projects:,} projects in {time.perf_counter() - started:.1f} s")

    def measure(user, url):
        client = Client()
        verified_login(client, user)
        timings, queries = [], 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - began)
            assert response.status_code == 200, (url, response.status_code)
            queries = len(captured)
        return statistics.median(timings) * 1000, queries

    for label, user, url in [
        ("ministry: projects page 1", reviewer, "/projects/"),
        ("ministry: projects page 200", reviewer, "/projects/?page=200"),
        ("ministry: search 'بئر رقم 9999'", reviewer, "/projects/?q=%D8%A8%D8%A6%D8%B1+%D8%B1%D9%82%D9%85+9999"),
        ("ministry: filter country=SD", reviewer, "/projects/?country=SD"),
        ("charity: its projects page 1", admin, "/projects/"),
        ("ministry: API list", reviewer, "/api/v1/projects/"),
        ("charity: API list", admin, "/api/v1/projects/"),
    ]:
        milliseconds, queries = measure(user, url)
        print(f"{label:34s} median {milliseconds:7.1f} ms  {queries} queries")


if __name__ == "__main__":
    main()
