"""Finance at scale (issue 6, part 9): 100,000 projects with budgets and 10,000,000 expenditures on PostgreSQL.

    scripts/with_postgres.sh .venv/bin/python bench/finance.py                 # full scale
    scripts/with_postgres.sh .venv/bin/python bench/finance.py --quick         # 2,000 projects, 200,000 rows

Builds the data with COPY (psycopg's cursor.copy): projects (in execution, licensed), four budget lines each, an
original budget version (a revision for one project in ten) with its line amounts and two periods, and the
expenditures spread over the lines (one in five in US dollars, converted at a rate). Then it builds the roll-ups
with the set-based refresh (shafaf.finance.rollup_bulk.refresh_projects) and measures, in-process with Django's
test client (middleware, templates and all, no network):

(a) the ministry's portfolio deviation view (finance:portfolio, riskiest first) as a ministry reviewer;
(b) a project's financial statement (finance:statement) for random projects;
(c) the bulk expenditure import (shafaf.finance.expenditures.expenditures_import) of a generated CSV.

Targets on 2 cores: portfolio p95 <= 300 ms, statement p95 <= 100 ms, import >= 50,000 rows/s.
"""

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import time

from _django import setup

TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=400)
END = TODAY + dt.timedelta(days=300)
LINES = (("1", "programme"), ("2", "construction"), ("3", "administration"), ("4", "monitoring"))
USD_RATE = "0.30500"  # KWD per dollar, the rate written for every day the expenditures use


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def copy_rows(cursor, table, columns, rows, *, say, label):
    """COPY the rows (tuples of text or None) into the table, in one stream."""
    started = time.perf_counter()
    count = 0
    quoted = ", ".join(f'"{column}"' for column in columns)
    with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    seconds = time.perf_counter() - started
    say(f"  {label}: {count:,} rows in {seconds:.1f} s ({count / max(seconds, 1e-9):,.0f} rows/s)")
    return count


def reset_sequence(cursor, table):
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--expenditures", type=int, default=10_000_000)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=30, help="requests per measured page")
    parser.add_argument("--quick", action="store_true", help="2,000 projects and 200,000 expenditures")
    args = parser.parse_args()
    if args.quick:
        args.projects, args.expenditures = 2_000, 200_000
    machine = setup()

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        sys.exit("bench/finance.py needs PostgreSQL (COPY): run it under scripts/with_postgres.sh")

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client
    from django.urls import reverse

    from shafaf.accounts.models import Membership, Organization, User
    from shafaf.finance import rollup_bulk
    from shafaf.finance.expenditures import expenditures_import
    from shafaf.finance.models import (
        BudgetLine,
        BudgetPeriod,
        BudgetVersion,
        BudgetVersionLine,
        ExchangeRate,
        Expenditure,
        ProjectFinance,
    )
    from shafaf.projects.models import Project
    from tests.factories import verified_login

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" PostgreSQL {pg_version}"
    )
    print(f"  ({machine})")
    print(f"scale: {args.projects:,} projects, {args.expenditures:,} expenditures, import of {args.import_rows:,} rows")

    def say(line):
        print(line, flush=True)

    rng = random.Random(6)
    mosa = Organization.objects.create(
        kind="authority", authority_code="MOSA", slug="mosa", name_ar="الوزارة", name_en="MOSA"
    )
    charities = [
        Organization.objects.create(kind="charity", slug=f"c{i}", name_ar=f"جمعية {i}", name_en=f"Charity {i}")
        for i in range(20)
    ]
    reviewer = User.objects.create(username="reviewer")
    Membership.objects.create(user=reviewer, organization=mosa, role="ministry_reviewer")
    admins = []
    for index, charity in enumerate(charities):
        admin = User.objects.create(username=f"admin{index}")
        Membership.objects.create(user=admin, organization=charity, role="charity_admin")
        admins.append(admin)
    rate_days = sorted({START + dt.timedelta(days=d) for d in range(0, (TODAY - START).days + 1)})
    ExchangeRate.objects.bulk_create(ExchangeRate(currency="USD", on_date=day, rate=USD_RATE) for day in rate_days)

    n_projects = args.projects
    per_project = max(1, args.expenditures // n_projects)
    now = dt.datetime.now(dt.UTC).isoformat()
    t = {
        "project": Project._meta.db_table,
        "line": BudgetLine._meta.db_table,
        "version": BudgetVersion._meta.db_table,
        "version_line": BudgetVersionLine._meta.db_table,
        "period": BudgetPeriod._meta.db_table,
        "expenditure": Expenditure._meta.db_table,
    }
    say("building the data with COPY …")
    build_started = time.perf_counter()
    budgets: dict[int, list[int]] = {}  # project id -> the line amounts of its current version (fils)
    originals: dict[int, list[int]] = {}  # the original version's amounts, where a revision followed

    def project_rows():
        for pid in range(1, n_projects + 1):
            charity = charities[pid % 20]
            yield (
                str(pid),
                f"PRJ-2026-{pid:06d}",
                str(charity.pk),
                f"مشروع رقم {pid}",
                f"Project number {pid}",
                "",
                "",
                "construction_external",
                rng.choice(["14030", "72010", "11220", "12220"]),
                rng.choice(["SD", "YE", "JO", "LB", "SO"]),
                "families",
                str(rng.randrange(50, 5000)),
                START.isoformat(),
                END.isoformat(),
                "KWD",
                "in_execution",
                "",
                str(admins[pid % 20].pk),
                f"MOSA-2026-{pid:06d}",
                START.isoformat(),
                "f",
                "",
                now,
                now,
                now,
                now,
            )

    def version_rows():
        extra = n_projects
        for pid in range(1, n_projects + 1):
            amounts = [rng.randrange(50_000, 5_000_000) * 1000 for _ in LINES]
            total = sum(amounts)
            yield (
                str(pid),
                str(pid),
                "1",
                "original",
                "committed",
                "",
                "KWD",
                str(total),
                str(amounts[2]),
                "entered",
                str(admins[pid % 20].pk),
                now,
            )
            if pid % 10 == 0:
                extra += 1
                originals[pid] = amounts
                amounts = [a + a // 10 for a in amounts]
                yield (
                    str(extra),
                    str(pid),
                    "2",
                    "revision",
                    "committed",
                    "More families",
                    "KWD",
                    str(sum(amounts)),
                    str(amounts[2]),
                    "entered",
                    str(admins[pid % 20].pk),
                    now,
                )
            budgets[pid] = amounts

    def line_rows():
        for pid in range(1, n_projects + 1):
            for k, (code, category) in enumerate(LINES):
                yield (str((pid - 1) * 4 + k + 1), str(pid), code, category, "", f"Line {code}", "0")

    def version_line_rows():
        row_id = 0
        extra = n_projects
        for pid in range(1, n_projects + 1):
            current = budgets[pid]
            versions = [(pid, originals.get(pid, current))]
            if pid in originals:
                extra += 1
                versions.append((extra, current))
            for version_id, amounts in versions:
                for k in range(len(LINES)):
                    row_id += 1
                    yield (str(row_id), str(version_id), str((pid - 1) * 4 + k + 1), str(amounts[k]))

    def period_rows():
        middle = START + (END - START) / 2
        for pid in range(1, n_projects + 1):
            total = sum(budgets[pid])
            yield (str(pid), START.isoformat(), middle.isoformat(), str(total // 2))
            yield (str(pid), (middle + dt.timedelta(days=1)).isoformat(), END.isoformat(), str(total - total // 2))

    def expenditure_rows():
        span = (TODAY - START).days
        recorder = str(admins[0].pk)
        for pid in range(1, n_projects + 1):
            amounts = budgets[pid]
            # One project in twenty over-spends, one in five approaches its budget, the others spend under it.
            level = 115 if pid % 20 == 0 else 109 if pid % 5 == 0 else rng.randrange(20, 80)
            for i in range(per_project):
                k = i % 4
                share = amounts[k] * level // 100 // (per_project // 4 or 1)
                on = (START + dt.timedelta(days=rng.randrange(span))).isoformat()
                if i % 5 == 0:
                    cents = max(1, share * 100 // 305)  # the dollars worth `share` fils at 0.305
                    yield (
                        str(pid),
                        str((pid - 1) * 4 + k + 1),
                        str(cents),
                        "USD",
                        str(share),
                        USD_RATE,
                        on,
                        on,
                        "Khartoum",
                        f"INV-{pid}-{i}",
                        "",
                        "invoice",
                        "",
                        "",
                        "entered",
                        "",
                        recorder,
                        now,
                    )
                else:
                    yield (
                        str(pid),
                        str((pid - 1) * 4 + k + 1),
                        str(max(1, share)),
                        "KWD",
                        str(max(1, share)),
                        "",
                        None,
                        on,
                        "Khartoum",
                        f"INV-{pid}-{i}",
                        "",
                        "invoice",
                        "",
                        "",
                        "entered",
                        "",
                        recorder,
                        now,
                    )

    raw = connection.connection
    with transaction.atomic(), raw.cursor() as cursor:
        copy_rows(
            cursor,
            t["project"],
            [
                "id",
                "reference",
                "charity_id",
                "title_ar",
                "title_en",
                "description_ar",
                "description_en",
                "project_model",
                "sector",
                "country",
                "beneficiary_group",
                "beneficiary_count",
                "planned_start",
                "planned_end",
                "currency",
                "status",
                "iati_identifier",
                "created_by_id",
                "licence_number",
                "licence_date",
                "is_revision",
                "resume_status",
                "status_changed_at",
                "submitted_at",
                "created_at",
                "updated_at",
            ],
            project_rows(),
            say=say,
            label="projects",
        )
        copy_rows(
            cursor,
            t["version"],
            [
                "id",
                "project_id",
                "number",
                "kind",
                "status",
                "reason",
                "currency",
                "total_minor",
                "admin_minor",
                "source",
                "created_by_id",
                "created_at",
            ],
            version_rows(),
            say=say,
            label="budget versions",
        )
        copy_rows(
            cursor,
            t["line"],
            ["id", "project_id", "code", "category", "name_ar", "name_en", "spent_minor"],
            line_rows(),
            say=say,
            label="budget lines",
        )
        copy_rows(
            cursor,
            t["version_line"],
            ["id", "version_id", "line_id", "amount_minor"],
            version_line_rows(),
            say=say,
            label="line amounts",
        )
        copy_rows(
            cursor, t["period"], ["version_id", "start", "end", "amount_minor"], period_rows(), say=say, label="periods"
        )
        copy_rows(
            cursor,
            t["expenditure"],
            [
                "project_id",
                "line_id",
                "amount_minor",
                "currency",
                "project_amount_minor",
                "rate",
                "rate_date",
                "spent_on",
                "place",
                "reference",
                "description",
                "evidence_kind",
                "file",
                "sha256",
                "source",
                "iati_type",
                "recorded_by_id",
                "recorded_at",
            ],
            expenditure_rows(),
            say=say,
            label="expenditures",
        )
        for table in ("project", "version", "line", "version_line"):
            reset_sequence(cursor, t[table])
        from shafaf.projects.models import LicenceSequence, ProjectSequence

        ProjectSequence.objects.update_or_create(year=2026, defaults={"last_number": n_projects})
        LicenceSequence.objects.update_or_create(year=2026, defaults={"last_number": n_projects})
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(f"data built in {time.perf_counter() - build_started:.1f} s")

    started = time.perf_counter()
    with transaction.atomic():
        written = rollup_bulk.refresh_projects()
    say(f"roll-ups (rollup_bulk.refresh_projects): {written:,} projects in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    over = ProjectFinance.objects.filter(lines_over__gt=0).count()
    say(
        f"  {over:,} projects with a line beyond its threshold, "
        f"{ProjectFinance.objects.filter(warning=True).count():,} with a warning"
    )

    def measure(user, urls, label, target_ms):
        client = Client()
        verified_login(client, user)
        client.get(urls[0])  # warm the caches (templates, translations)
        timings = []
        for index in range(args.repeat):
            url = urls[index % len(urls)]
            began = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        verdict = "meets" if p95 <= target_ms else "MISSES"
        say(f"{label:44s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  ({verdict} the {target_ms} ms target)")
        return p95

    portfolio = reverse("finance:portfolio")
    measure(
        reviewer,
        [portfolio, f"{portfolio}?page=2", f"{portfolio}?page=50"],
        "(a) ministry: portfolio (riskiest first)",
        300,
    )
    sample = [rng.randrange(1, n_projects + 1) for _ in range(args.repeat)]
    measure(
        reviewer, [reverse("finance:statement", args=[pk]) for pk in sample], "(b) ministry: project statement", 100
    )

    # (c) the bulk import: a CSV for one project of charity 0, through the expenditures' own import path.
    project = Project.objects.get(pk=20)  # charity 0 (pid % 20 == 0)
    Project.objects.filter(pk=project.pk).update(planned_start=START, planned_end=END)
    header = "line code,amount,currency,date,reference,place,description,evidence kind"
    lines = [header]
    for i in range(args.import_rows):
        on = (START + dt.timedelta(days=i % (TODAY - START).days)).isoformat()
        if i % 5 == 0:
            lines.append(f"{LINES[i % 4][0]},{i % 997 + 1}.25,USD,{on},IMP-{i},Khartoum,item {i},invoice")
        else:
            lines.append(f"{LINES[i % 4][0]},{i % 991 + 1}.125,KWD,{on},IMP-{i},Khartoum,item {i},invoice")
    upload = SimpleUploadedFile("expenditures.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")
    began = time.perf_counter()
    batch = expenditures_import(actor=admins[0], project=project, file=upload)
    seconds = time.perf_counter() - began
    rate = batch.rows_ok / seconds if seconds else 0
    verdict = "meets" if rate >= 50_000 else "MISSES"
    say(
        f"{'(c) expenditure import (expenditures_import)':44s} {batch.rows_ok:,} rows kept,"
        f" {batch.rows_failed} refused,"
        f" {seconds:.1f} s: {rate:,.0f} rows/s ({verdict} the 50,000 rows/s target)"
    )
    if batch.rows_failed:
        say(f"  first errors: {batch.errors[:3]}")


if __name__ == "__main__":
    main()
