"""Dashboards at scale: 100,000 projects across 20 charities, read by the ministry, a charity, a donor and the public.

    .venv/bin/python bench/dashboards.py [--projects 100000] [--small 10000] [--repeat 20]
    scripts/with_postgres.sh .venv/bin/python bench/dashboards.py

The rows are bulk-inserted (the benchmark measures reads): projects with their finance roll-ups and a located point
each, overlap flags, budget deviations, screening hits, unresolved alerts, report schedules with some reports (so
that reports are overdue), rulebook runs, the ministry's plan and each charity's plan with objectives, indicators
and project-objective links, and a donor whose donations are allocated to some projects.

Each dashboard page, its map's JSON and the part the page loads after its first paint (the details: overdue
reports, compliance classes, the objectives' progress; kept in the cache for SHAFAF_DASHBOARD_CACHE_SECONDS, so
measured both from the cache and cold) are requested in-process with Django's test client (middleware, templates
and all, no network): first on the `--small` set, then on the full set. The number of SQL queries of each must be
the same at both sizes (no query per row). Prints the p95 and the median of `--repeat` requests each, the queries,
and the machine.
"""

import argparse
import datetime as dt
import math
import random
import statistics
import time

from _django import setup

COUNTRIES = {
    "SD": (15.5, 32.5),
    "YE": (15.4, 44.2),
    "JO": (31.9, 35.9),
    "LB": (33.9, 35.5),
    "SO": (2.0, 45.3),
    "SY": (35.0, 38.0),
    "AF": (34.5, 69.2),
    "PK": (30.0, 70.0),
    "BD": (23.7, 90.4),
    "KE": (-1.3, 36.8),
    "ET": (9.0, 38.7),
    "TD": (12.1, 15.0),
    "NE": (13.5, 2.1),
    "ML": (12.6, -8.0),
    "ID": (-6.2, 106.8),
}
SECTORS = ["14030", "72010", "11220", "12220", "16010", "15160", "31120", "12240"]
MODELS = [
    "construction_external",
    "social_development_external",
    "sponsorship_external",
    "relief_campaign_external",
]
STATUSES = (
    ["draft"] * 10
    + ["submitted"] * 5
    + ["under_review"] * 5
    + ["approved"] * 15
    + ["in_execution"] * 40
    + ["completed"] * 15
    + ["rejected"] * 5
    + ["cancelled"] * 5
)
LICENSED = {"approved", "in_execution", "completed", "closed", "suspended"}
BATCH = 5000


class World:
    """The organisations, users and reference rows the projects hang from."""

    def __init__(self):
        from shafaf.accounts.models import Membership, Organization, User
        from shafaf.coordination.models import ModelVersion
        from shafaf.donations.models import BankAccount, Donor
        from shafaf.partners.models import SanctionsListVersion
        from shafaf.strategy.models import Objective, Plan, PlanVersion

        self.mosa = Organization.objects.create(
            kind="authority", authority_code="MOSA", slug="mosa", name_ar="الوزارة", name_en="MOSA"
        )
        self.charities = [
            Organization.objects.create(kind="charity", slug=f"c{i}", name_ar=f"جمعية {i}", name_en=f"Charity {i}")
            for i in range(20)
        ]
        self.partners = [
            Organization.objects.create(kind="partner", slug=f"p{i}", name_ar=f"شريك {i}", name_en=f"Partner {i}")
            for i in range(50)
        ]
        donors = Organization.objects.create(kind="donor_org", slug="donors", name_ar="متبرعون", name_en="Donors")
        self.reviewer = User.objects.create(username="reviewer")
        Membership.objects.create(user=self.reviewer, organization=self.mosa, role="ministry_reviewer")
        self.admin = User.objects.create(username="admin0")
        Membership.objects.create(user=self.admin, organization=self.charities[0], role="charity_admin")
        self.donor_user = User.objects.create(username="donor")
        Membership.objects.create(user=self.donor_user, organization=donors, role="donor")
        self.donor = Donor.objects.create(charity=self.charities[0], name_en="Bench Donor", user=self.donor_user)
        self.bank = BankAccount.objects.create(
            charity=self.charities[0],
            bank_name="NBK",
            iban="KW81CBKU0000000000001234560101",
            approved_by=self.reviewer,
            approved_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )
        self.model_version = ModelVersion.objects.create(number=1, params={}, is_active=True)
        self.sanctions = SanctionsListVersion.objects.create(
            source="un", published="2026-02-27", file_name="UN.xml", sha256="a" * 64, is_current=True
        )
        # The ministry's plan (5 pillars x 6 objectives) and each charity's (4 objectives mapped to the ministry's).
        self.ministry_objectives = []
        self.charity_objectives = {}
        version = PlanVersion.objects.create(
            plan=Plan.objects.create(organization=self.mosa, code="vision", name_en="Vision", created_by=self.reviewer),
            number=1,
            period_start=dt.date(2025, 1, 1),
            period_end=dt.date(2030, 12, 31),
            status="published",
            created_by=self.reviewer,
        )
        for pillar_number in range(5):
            pillar = Objective.objects.create(
                version=version, kind="pillar", code=f"P{pillar_number}", title_en=f"Pillar {pillar_number}"
            )
            for number in range(6):
                self.ministry_objectives.append(
                    Objective.objects.create(
                        version=version,
                        parent=pillar,
                        code=f"P{pillar_number}.{number}",
                        title_en=f"Objective {number}",
                    )
                )
        for charity in self.charities:
            version = PlanVersion.objects.create(
                plan=Plan.objects.create(
                    organization=charity, code="plan", name_en=f"Plan of {charity.slug}", created_by=self.reviewer
                ),
                number=1,
                period_start=dt.date(2025, 1, 1),
                period_end=dt.date(2030, 12, 31),
                status="published",
                created_by=self.reviewer,
            )
            self.charity_objectives[charity.pk] = [
                Objective.objects.create(
                    version=version,
                    code=f"G{number}",
                    title_en=f"Goal {number}",
                    maps_to=self.ministry_objectives[(charity.pk + number) % len(self.ministry_objectives)],
                )
                for number in range(4)
            ]
        self._indicators()

    def _indicators(self):
        from shafaf.strategy.models import Indicator, IndicatorTarget

        indicators = []
        for objective in self.ministry_objectives:
            indicators.append(
                Indicator(
                    objective=objective,
                    code=f"I-{objective.code}",
                    name_en=f"Indicator of {objective.code}",
                    unit="number",
                    aggregation="sum",
                    created_by=self.reviewer,
                )
            )
        Indicator.objects.bulk_create(indicators)
        IndicatorTarget.objects.bulk_create(
            [
                IndicatorTarget(
                    indicator=indicator,
                    period_start=dt.date(2026, 1, 1),
                    period_end=dt.date(2026, 12, 31),
                    value_milli=1_000_000,
                )
                for indicator in Indicator.objects.all()
            ]
        )


def build(world: World, first: int, last: int, rng: random.Random) -> None:
    """Projects first..last-1 with every row the dashboards read."""
    from django.db import transaction

    from shafaf.coordination.models import Flag
    from shafaf.donations.models import Allocation, Donation
    from shafaf.finance.models import BudgetVersion, Deviation, ProjectFinance
    from shafaf.partners.models import SanctionsEntry, Screening, ScreeningHit
    from shafaf.projects.models import Project, ProjectLocation
    from shafaf.projects.oversight.models import Alert
    from shafaf.projects.rulebook.models import RulebookRun
    from shafaf.reports.models import ProgressReport, ReportSchedule
    from shafaf.strategy.models import ProjectObjective

    for start in range(first, last, BATCH):
        stop = min(last, start + BATCH)
        with transaction.atomic():
            projects = []
            for number in range(start, stop):
                country = rng.choice(list(COUNTRIES))
                status = rng.choice(STATUSES)
                begin = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(900))
                licensed = status in LICENSED
                projects.append(
                    Project(
                        reference=f"PRJ-2026-{number + 1:06d}",
                        charity=world.charities[number % 20],
                        title_ar=f"مشروع رقم {number}",
                        title_en=f"Project number {number}",
                        project_model=rng.choice(MODELS),
                        sector=rng.choice(SECTORS),
                        country=country,
                        beneficiary_group="families",
                        beneficiary_count=rng.randrange(50, 5000),
                        planned_start=begin,
                        planned_end=begin + dt.timedelta(days=rng.choice([180, 365, 730])),
                        currency="KWD",
                        status=status,
                        licence_number=f"MOSA-{number + 1:07d}" if licensed else "",
                        licence_date=begin if licensed else None,
                        implementing_partner=world.partners[number % 50],
                        created_by=world.admin,
                    )
                )
            created = Project.objects.bulk_create(projects)
            ids = [p.pk for p in created]
            if ids[0] is None:  # a backend that does not return ids on bulk insert
                created = list(Project.objects.filter(reference__in=[p.reference for p in projects]).order_by("pk"))
            ProjectFinance.objects.bulk_create(
                [
                    ProjectFinance(
                        project=p,
                        charity=p.charity,
                        currency="KWD" if p.pk % 5 else "USD",
                        budget_minor=(budget := rng.randrange(1_000_000, 500_000_000)),
                        disbursed_minor=budget // 2,
                        spent_minor=budget // 3,
                    )
                    for p in created
                ]
            )
            ProjectLocation.objects.bulk_create(
                [
                    ProjectLocation(
                        project=p,
                        admin_area_en="Area",
                        latitude=round(COUNTRIES[p.country][0] + rng.uniform(-3, 3), 6),
                        longitude=round(COUNTRIES[p.country][1] + rng.uniform(-3, 3), 6),
                    )
                    for p in created
                ]
            )
            # Overlap flags between neighbouring projects of two charities (1 in 50).
            Flag.objects.bulk_create(
                [
                    Flag(
                        project_a=created[i],
                        project_b=created[i + 1],
                        level="likely" if i % 3 else "possible",
                        score=0.8,
                        model_version=world.model_version,
                        status="open" if i % 4 else "decided",
                        decision="" if i % 4 else "distinct",
                        decided_at=None if i % 4 else dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
                        found_by="scan",
                    )
                    for i in range(0, len(created) - 1, 50)
                ]
            )
            # Budget deviations (1 in 40).
            deviating = created[::40]
            versions = BudgetVersion.objects.bulk_create(
                [
                    BudgetVersion(project=p, number=1, kind="original", currency="KWD", created_by=world.admin)
                    for p in deviating
                ]
            )
            Deviation.objects.bulk_create(
                [
                    Deviation(
                        project=p,
                        scope="total",
                        status=rng.choice(["open", "justified", "approved", "rejected", "resolved"]),
                        currency="KWD",
                        budget_minor=1000,
                        spent_minor=1200,
                        ratio_bp=12000,
                        threshold_bp=500,
                        budget_version=v,
                    )
                    for p, v in zip(deviating, versions, strict=True)
                ]
            )
            # Unresolved alerts (1 in 20).
            Alert.objects.bulk_create(
                [
                    Alert(
                        project=p,
                        rule="past_planned_end",
                        severity="warning" if p.pk % 3 else "critical",
                        owner=p.charity,
                        message_ar="تنبيه",
                        message_en="Alert",
                    )
                    for p in created[::20]
                ]
            )
            licensed = [p for p in created if p.status in LICENSED]
            # Report schedules for the licensed projects, quarterly, with the first period's report for half.
            ReportSchedule.objects.bulk_create(
                [
                    ReportSchedule(
                        project=p,
                        frequency_months=3,
                        starts_on=p.planned_start,
                        first_due=p.planned_start + dt.timedelta(days=100),
                    )
                    for p in licensed
                ]
            )
            ProgressReport.objects.bulk_create(
                [
                    ProgressReport(
                        project=p,
                        period_start=p.planned_start,
                        period_end=p.planned_start + dt.timedelta(days=89),
                        due_date=p.planned_start + dt.timedelta(days=100),
                        status="accepted",
                        created_by=world.admin,
                    )
                    for p in licensed[::2]
                ]
            )
            active = [p for p in created if p.status in ("approved", "in_execution")]
            RulebookRun.objects.bulk_create(
                [
                    RulebookRun(
                        project=p,
                        stage="nightly",
                        passed=bool(p.pk % 7),
                        blocking_failures=0 if p.pk % 7 else 1,
                        at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                    )
                    for p in active
                ]
            )
            ProjectObjective.objects.bulk_create(
                [
                    ProjectObjective(
                        project=p,
                        objective=rng.choice(world.charity_objectives[p.charity_id] + world.ministry_objectives),
                        linked_by=world.admin,
                    )
                    for p in created
                ]
            )
            # Screening hits on the partners (one list entry per batch, every partner hit once).
            entry = SanctionsEntry.objects.create(
                version=world.sanctions, entry_id=f"QDe.{start}", entity_type="entity", primary_name=f"NAME {start}"
            )
            screenings = Screening.objects.bulk_create(
                [Screening(partner=partner, trigger="manual", names=[partner.name_en]) for partner in world.partners]
            )
            ScreeningHit.objects.bulk_create(
                [
                    ScreeningHit(
                        partner=partner,
                        version=world.sanctions,
                        entry=entry,
                        screening=screening,
                        last_screening=screening,
                        query=partner.name_en,
                        matched_name=entry.primary_name,
                        score=0.8,
                        explanation_en="bench",
                        explanation_ar="bench",
                        status=(status := rng.choice(["open", "confirmed", "cleared"])),
                        decision_reason="A different organisation." if status == "cleared" else "",
                    )
                    for partner, screening in zip(world.partners, screenings, strict=True)
                ]
            )
            # The donor's donations, each allocated to one project of charity 0 (1 in 100 of its projects).
            own = [p for p in created if p.charity_id == world.charities[0].pk][::100]
            donations = Donation.objects.bulk_create(
                [
                    Donation(
                        charity=world.charities[0],
                        donor=world.donor,
                        amount_minor=100_000,
                        currency="KWD",
                        received_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
                        channel="bank_transfer",
                        bank_account=world.bank,
                        purpose="general",
                        receipt_number=f"R-{p.pk}",
                    )
                    for p in own
                ]
            )
            Allocation.objects.bulk_create(
                [
                    Allocation(donation=d, project=p, amount_minor=100_000, currency="KWD")
                    for d, p in zip(donations, own, strict=True)
                ]
            )


def pages(world: World) -> list[tuple[str, object, str]]:
    return [
        ("ministry", world.reviewer, "/dashboard/ministry/"),
        (
            "ministry ?country=SD&status=in_execution",
            world.reviewer,
            "/dashboard/ministry/?country=SD&status=in_execution",
        ),
        ("ministry map.json", world.reviewer, "/dashboard/ministry/map.json"),
        ("ministry details (cached)", world.reviewer, "/dashboard/ministry/details/"),
        ("ministry details, cold", world.reviewer, "/dashboard/ministry/details/"),
        ("charity", world.admin, "/dashboard/charity/"),
        ("charity map.json", world.admin, "/dashboard/charity/map.json"),
        ("charity details (cached)", world.admin, "/dashboard/charity/details/"),
        ("charity details, cold", world.admin, "/dashboard/charity/details/"),
        ("donor", world.donor_user, "/dashboard/donor/"),
        ("donor map.json", world.donor_user, "/dashboard/donor/map.json"),
        ("public", None, "/dashboard/public/"),
        ("public ?sector=140", None, "/dashboard/public/?sector=140"),
        ("public map.json", None, "/dashboard/public/map.json"),
        ("ministry export.xlsx", world.reviewer, "/dashboard/ministry/export.xlsx"),
    ]


def measure(world: World, repeat: int) -> dict[str, tuple[float, float, int]]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.factories import verified_login

    results = {}
    for label, user, url in pages(world):
        client = Client(HTTP_ACCEPT_LANGUAGE="ar")
        if user is not None:
            verified_login(client, user)
        client.get(url)  # warm the connection and the templates, as a running server would be
        timings, queries = [], set()
        cold = label.endswith(", cold")
        for _ in range(repeat):
            if cold:
                cache.clear()
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries.add(len(captured))
        timings.sort()
        p95 = timings[max(0, math.ceil(0.95 * len(timings)) - 1)]
        results[label] = (p95, statistics.median(timings), max(queries))
    return results


def settle(connection) -> None:
    """After a bulk load, what a maintained database has done: VACUUM ANALYZE on PostgreSQL (statistics, visibility
    map and hint bits), so that autovacuum does not run during the measurements; ANALYZE on SQLite."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    machine = setup()

    from django.db import connection

    rng = random.Random(8)
    world = World()
    started = time.perf_counter()
    build(world, 0, args.small, rng)
    print(f"inserted {args.small:,} projects in {time.perf_counter() - started:.1f} s")
    settle(connection)
    small = measure(world, max(3, args.repeat // 4))
    started = time.perf_counter()
    build(world, args.small, args.projects, rng)
    print(f"inserted {args.projects - args.small:,} more projects in {time.perf_counter() - started:.1f} s")
    settle(connection)
    large = measure(world, args.repeat)

    print()
    print(f"{'page':44s} {'p95 ms':>8s} {'median':>8s} {'queries':>8s} {'at ' + format(args.small, ','):>10s}")
    grew = []
    for label, (p95, median, queries) in large.items():
        before = small[label][2]
        print(f"{label:44s} {p95:8.1f} {median:8.1f} {queries:8d} {before:10d}")
        if queries != before:
            grew.append(label)

    def worst(kind):
        chosen = [p95 for label, (p95, _median, _queries) in large.items() if kind(label)]
        return max(chosen) if chosen else 0.0

    pages_p95 = worst(lambda label: not any(word in label for word in ("map.json", "details", "export")))
    print()
    print(f"machine: {machine}")
    print(
        f"dashboards: {args.projects:,} projects, {args.repeat} requests each; first paint p95 (worst page) "
        f"{pages_p95:.1f} ms (target 500); map JSON p95 {worst(lambda label: 'map.json' in label):.1f} ms; "
        f"details p95 {worst(lambda label: 'details (cached)' in label):.1f} ms from the cache, "
        f"{worst(lambda label: 'details, cold' in label):.1f} ms cold; "
        f"Excel p95 {worst(lambda label: 'export' in label):.1f} ms; "
        f"query counts {'constant' if not grew else 'GREW for ' + ', '.join(grew)} between {args.small:,} and "
        f"{args.projects:,} projects"
    )
    assert not grew, f"the number of queries grew with the number of projects: {grew}"


if __name__ == "__main__":
    main()
