"""The dashboards: each role sees only its own figures, the figures match the rows behind them, the filters drive
charts, tables, map and export alike, and the number of queries does not grow with the number of projects."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from shafaf.dashboards import selectors
from shafaf.finance.models import Deviation, ProjectFinance
from shafaf.projects.models import Project, ProjectLocation
from tests.factories import World, approved_bank_account, donor_of, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return World()


@pytest.fixture(autouse=True)
def no_cache(settings):
    settings.SHAFAF_DASHBOARD_CACHE_SECONDS = 0


def _license(project, number: str, status: str = "in_execution"):
    Project.objects.filter(pk=project.pk).update(status=status, licence_number=number, licence_date=dt.date(2026, 1, 1))
    project.refresh_from_db()
    return project


def _clone(project, count: int, *, country: str | None = None, status: str = "draft", start: int = 0):
    """`count` copies of the project (bulk), each with a finance roll-up and a located point."""
    copies = []
    for number in range(count):
        copies.append(
            Project(
                reference=f"{project.reference}-{start + number}",
                charity_id=project.charity_id,
                title_ar=project.title_ar,
                title_en=project.title_en,
                project_model=project.project_model,
                sector=project.sector,
                country=country or project.country,
                beneficiary_group=project.beneficiary_group,
                beneficiary_count=10,
                planned_start=project.planned_start,
                planned_end=project.planned_end,
                currency=project.currency,
                created_by_id=project.created_by_id,
                status=status,
            )
        )
    created = Project.objects.bulk_create(copies)
    created = list(Project.objects.filter(reference__startswith=f"{project.reference}-"))
    ProjectFinance.objects.bulk_create(
        [
            ProjectFinance(project=p, charity_id=p.charity_id, currency="KWD", budget_minor=1000, spent_minor=250)
            for p in created
            if not ProjectFinance.objects.filter(project=p).exists()
        ]
    )
    return created


def _finance(project, budget: int, spent: int = 0, disbursed: int = 0, currency: str = "KWD"):
    return ProjectFinance.objects.update_or_create(
        project=project,
        defaults={
            "charity_id": project.charity_id,
            "currency": currency,
            "budget_minor": budget,
            "spent_minor": spent,
            "disbursed_minor": disbursed,
        },
    )[0]


def _client(user, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        verified_login(client, user)
    return client


def _sheet(book, english: str):
    """The sheet of that (English) title, or of its Arabic title (the world's users work in Arabic)."""
    from django.utils import translation

    with translation.override("ar"):
        arabic = translation.gettext(english)
    for title in (english[:31], arabic[:31]):
        if title in book.sheetnames:
            return book[title]
    raise KeyError(english)


def _figures(response):
    return response.context["figures"]


def _details(user, url: str) -> dict:
    """The tables of the part of a dashboard loaded after its first paint, by name."""
    response = _client(user).get(url)
    assert response.status_code == 200
    return {table.name: table for table in response.context["tables"]}


def test_each_role_opens_its_own_dashboard(world):
    assert _client(world.reviewer).get("/dashboard/")["Location"] == "/dashboard/ministry/"
    assert _client(world.auditor).get("/dashboard/")["Location"] == "/dashboard/ministry/"
    assert _client(world.najat).get("/dashboard/")["Location"] == "/dashboard/charity/"
    assert _client(world.donor).get("/dashboard/")["Location"] == "/dashboard/donor/"
    assert _client(world.partner_reporter).get("/dashboard/").status_code == 403
    assert _client(world.najat).get("/dashboard/ministry/").status_code == 403
    assert _client(world.donor).get("/dashboard/charity/").status_code == 403
    assert _client(world.reviewer).get("/dashboard/nothing/").status_code == 404
    anonymous = Client()
    assert anonymous.get("/dashboard/ministry/").status_code == 302  # to the login page
    assert anonymous.get("/dashboard/public/").status_code == 200


def test_charity_dashboard_never_counts_another_charity(world):
    _finance(world.project_a, 10_000, spent=4_000, disbursed=5_000)
    _finance(world.project_b, 999_000, spent=1, disbursed=2)
    _clone(world.project_b, 3)
    response = _client(world.najat).get("/dashboard/charity/")
    assert response.status_code == 200
    figures = _figures(response)
    assert figures.total == 1
    [money] = figures.money
    assert (money.budget.minor, money.spent.minor, money.disbursed.minor) == (10_000, 4_000, 5_000)
    assert "charity" not in figures.filterset.form.fields  # one charity: nothing to choose
    # Asking for the other charity in the query string changes nothing.
    assert _figures(_client(world.najat).get(f"/dashboard/charity/?charity={world.charity_b.pk}")).total == 1
    map_data = _client(world.najat).get("/dashboard/charity/map.json").json()
    assert [(row["code"], row["count"], row["url"]) for row in map_data["countries"]] == [
        ("SD", 1, "/projects/?country=SD")
    ]


def test_ministry_figures_match_the_rows(world):
    _finance(world.project_a, 10_000, spent=4_000)
    _finance(world.project_b, 7_000, spent=1_000, currency="USD")
    _clone(world.project_a, 4)  # 4 more in SD, each 1,000 budget and 250 spent
    response = _client(world.reviewer).get("/dashboard/ministry/")
    figures = _figures(response)
    assert figures.total == Project.objects.count() == 6
    by_country = {bucket.key: bucket.count for bucket in figures.dimensions["country"]}
    assert by_country == {"SD": 5, "JO": 1}
    by_sector = {bucket.key: bucket.count for bucket in figures.dimensions["sector"]}
    assert by_sector == {"140": 5, "160": 1}
    money = {row.currency: (row.budget.minor, row.spent.minor, row.projects) for row in figures.money}
    assert money == {"KWD": (14_000, 5_000, 5), "USD": (7_000, 1_000, 1)}
    # Every figure links to the list behind it.
    sd = next(bucket for bucket in figures.dimensions["country"] if bucket.key == "SD")
    assert sd.url == "/projects/?country=SD"
    assert figures.money[0].url == "/finance/portfolio/"
    listed = _client(world.reviewer).get(sd.url)
    assert listed.status_code == 200
    assert listed.context["page"].paginator.count == 5


def test_filters_change_chart_table_map_and_export_alike(world):
    _finance(world.project_a, 10_000)
    _finance(world.project_b, 7_000)
    location = ProjectLocation.objects.create(
        project=world.project_b, admin_area_en="Amman", latitude=31.95, longitude=35.93
    )
    ProjectLocation.objects.create(project=world.project_a, admin_area_en="Khartoum", latitude=15.5, longitude=32.56)
    client = _client(world.reviewer)
    response = client.get("/dashboard/ministry/?country=JO")
    figures = _figures(response)
    assert figures.total == 1
    chart = response.context["chart"]
    status_chart = next(spec for spec in chart["charts"] if spec["id"] == "chart-status")
    assert sum(status_chart["values"]) == 1
    assert status_chart["links"] == ["/projects/?country=JO&status=draft"]
    money_chart = next(spec for spec in chart["charts"] if spec["id"] == "chart-money")
    assert money_chart["series"][0]["values"] == ["7.000"]
    assert response.context["map_config"]["data"] == "/dashboard/ministry/map.json?country=JO"
    map_data = client.get("/dashboard/ministry/map.json?country=JO").json()
    assert [row["code"] for row in map_data["countries"]] == ["JO"]
    assert map_data["points"] == 1 and map_data["cells"][0]["lat"] == float(location.latitude)
    book = load_workbook(io.BytesIO(client.get("/dashboard/ministry/export.xlsx?country=JO").content))
    sheet = _sheet(book, "Projects by country")
    assert [[cell.value for cell in row] for row in sheet.iter_rows()][1][::2] == ["JO", 1]
    money = _sheet(book, "Money by currency")
    assert [cell.value for cell in money[2]] == ["KWD", 7, 0, 0, 1]
    # The whole set without the filter.
    assert _figures(client.get("/dashboard/ministry/")).total == 2
    assert len(client.get("/dashboard/ministry/map.json").json()["countries"]) == 2
    # A bad filter is a 400 with the form's error, not a page of wrong figures.
    assert client.get("/dashboard/ministry/?planned_start_after=nonsense").status_code == 400
    assert client.get("/dashboard/ministry/map.json?planned_start_after=nonsense").status_code == 400


def test_excel_export_holds_the_page_numbers_exactly(world):
    _finance(world.project_a, 123_456_789, spent=1, disbursed=999)
    client = _client(world.reviewer, "ar")
    response = client.get("/dashboard/ministry/export.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    money = _sheet(book, "Money by currency")
    assert money.sheet_view.rightToLeft
    row = [cell.value for cell in money[2]]
    assert row[0] == "KWD"
    # 123,456.789 KWD exactly, written as a number with three decimals.
    assert round(row[1] * 1000) == 123_456_789 and money.cell(row=2, column=2).number_format == "#,##0.000"
    assert round(row[2] * 1000) == 999 and round(row[3] * 1000) == 1
    one = load_workbook(io.BytesIO(client.get("/dashboard/ministry/export.xlsx?table=status").content))
    assert len(one.sheetnames) == 2  # the table and its filters
    assert client.get("/dashboard/ministry/export.xlsx?table=nothing").status_code == 404


def test_charity_export_has_no_other_charity(world):
    _finance(world.project_b, 5_000)
    book = load_workbook(io.BytesIO(_client(world.najat).get("/dashboard/charity/export.xlsx").content))
    values = {str(cell.value) for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
    assert not {"JO", "Al-Rahma Charity", "جمعية الرحمة الخيرية"} & values
    with pytest.raises(KeyError):
        _sheet(book, "Screening hits")  # the ministry's only


def test_donor_sees_only_its_allocated_projects(world):
    from shafaf.donations.models import Allocation, Donation

    _finance(world.project_a, 10_000)
    _finance(world.project_b, 20_000)
    donor = donor_of(world)
    donation = Donation.objects.create(
        charity=world.charity_a,
        donor=donor,
        amount_minor=5_000,
        currency="KWD",
        received_at=timezone.now(),
        channel="bank_transfer",
        bank_account=approved_bank_account(world),
        purpose="general",
        receipt_number="R-TEST-1",
    )
    Allocation.objects.create(donation=donation, project=world.project_a, amount_minor=3_000, currency="KWD")
    response = _client(world.donor).get("/dashboard/donor/")
    figures = _figures(response)
    assert figures.total == 1
    assert [row.budget.minor for row in figures.money] == [10_000]
    assert [amount.minor for amount in figures.allocations] == [3_000]
    assert figures.overlaps is None and figures.compliance is None
    # A donor's figures link to its own dashboard, never to the charities' lists.
    assert figures.dimensions["country"][0].url == "/dashboard/donor/?country=SD"


def test_public_dashboard_shows_licensed_projects_and_no_donor(world):
    from shafaf.donations.models import Allocation, Donation

    _license(world.project_b, "MOSA-2026-000001")
    _finance(world.project_b, 8_000)
    _finance(world.project_a, 1_000)
    donor = donor_of(world, world.charity_b, name_en="Secret Benefactor", name_ar="متبرع سري")
    donation = Donation.objects.create(
        charity=world.charity_b,
        donor=donor,
        amount_minor=5_000,
        currency="KWD",
        received_at=timezone.now(),
        channel="bank_transfer",
        bank_account=approved_bank_account(world, world.charity_b),
        purpose="general",
        receipt_number="R-TEST-2",
    )
    Allocation.objects.create(donation=donation, project=world.project_b, amount_minor=5_000, currency="KWD")
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/dashboard/public/")
    assert response.status_code == 200
    figures = _figures(response)
    assert figures.total == 1  # the draft of charity A is not public
    assert [row.budget.minor for row in figures.money] == [8_000]
    content = response.content.decode()
    assert "Secret Benefactor" not in content and "متبرع سري" not in content
    assert figures.overlaps is None and figures.allocations is None
    export = Client().get("/dashboard/public/export.xlsx").content
    values = {str(c.value) for s in load_workbook(io.BytesIO(export)).worksheets for r in s.iter_rows() for c in r}
    assert not {"Secret Benefactor", "متبرع سري"} & values
    assert Client().get("/dashboard/public/map.json").json()["countries"][0]["code"] == "JO"


def test_ministry_panels_count_flags_deviations_hits_and_compliance(world):
    from shafaf.coordination.models import Flag, ModelVersion
    from shafaf.projects.rulebook.models import RulebookRun
    from tests.factories import screening_hit

    version = ModelVersion.objects.create(number=99, params={}, is_active=False)
    Flag.objects.create(
        project_a=world.project_a, project_b=world.project_b, level="likely", score=0.9, model_version=version
    )
    screening_hit(world)
    _license(world.project_a, "MOSA-2026-000002")
    RulebookRun.objects.create(project=world.project_a, stage="nightly", passed=False, blocking_failures=2)
    response = _client(world.reviewer).get("/dashboard/ministry/")
    figures = _figures(response)
    assert figures.overlaps == {"open": 1, "decided": 0, "withdrawn": 0}
    assert figures.overlap_links["open"] == "/coordination/?status=open"
    assert {bucket.key: bucket.count for bucket in figures.screening}["open"] == 1
    assert figures.compliance is None  # after the first paint
    [row] = _details(world.reviewer, "/dashboard/ministry/details/")["compliance"].rows
    assert row[2:] == [1, 1, 1]
    [compliance] = selectors.compliance_by_charity(Project.objects.all())
    assert (compliance.charity, compliance.compliance_class) == (world.charity_a, "non_compliant")
    assert all(bucket.count == 0 for bucket in figures.deviations)
    # The charity sees the flag on its project too, but no screening panel.
    charity = _figures(_client(world.rahma).get("/dashboard/charity/"))
    assert charity.overlaps["open"] == 1 and charity.screening is None
    assert _details(world.rahma, "/dashboard/charity/details/")["compliance"].rows == []
    # Filtering to a country where neither project is leaves no flag.
    assert _figures(_client(world.reviewer).get("/dashboard/ministry/?country=YE")).overlaps["open"] == 0


def test_deviations_count_by_status(world):
    from shafaf.finance.models import BudgetVersion

    budget_version = BudgetVersion.objects.create(
        project=world.project_a, number=1, kind="original", currency="KWD", created_by=world.najat
    )
    Deviation.objects.create(
        project=world.project_a,
        scope="total",
        currency="KWD",
        budget_minor=1000,
        spent_minor=1200,
        ratio_bp=12000,
        threshold_bp=500,
        budget_version=budget_version,
    )
    figures = _figures(_client(world.reviewer).get("/dashboard/ministry/"))
    counts = {bucket.key: bucket.count for bucket in figures.deviations}
    assert counts["open"] == 1
    assert next(b for b in figures.deviations if b.key == "open").url == "/finance/deviations/?status=open"
    assert {b.key: b.count for b in _figures(_client(world.rahma).get("/dashboard/charity/")).deviations}["open"] == 0


def test_overdue_reports_match_the_reports_selector(world):
    from shafaf.reports.models import ProgressReport, ReportSchedule
    from shafaf.reports.selectors import overdue_reports

    today = dt.date(2026, 11, 29)
    cases = [
        # (planned start, planned end, starts_on, first_due, frequency)
        (dt.date(2025, 1, 31), dt.date(2026, 2, 28), dt.date(2025, 1, 31), dt.date(2025, 5, 15), 3),
        (dt.date(2025, 3, 1), dt.date(2027, 3, 1), dt.date(2025, 3, 1), dt.date(2025, 6, 29), 1),
        (dt.date(2026, 1, 10), dt.date(2026, 6, 9), dt.date(2026, 1, 10), dt.date(2026, 4, 30), 2),
        (dt.date(2024, 1, 1), dt.date(2030, 1, 1), dt.date(2024, 1, 1), dt.date(2026, 11, 29), 6),
    ]
    for number, (start, end, starts_on, first_due, frequency) in enumerate(cases):
        project = _clone(world.project_a, 1, start=100 + number)[0]
        Project.objects.filter(pk=project.pk).update(
            status="in_execution",
            licence_number=f"L-{number}",
            licence_date=start,
            planned_start=start,
            planned_end=end,
        )
        ReportSchedule.objects.create(
            project=project, frequency_months=frequency, starts_on=starts_on, first_due=first_due
        )
        if number == 1:
            ProgressReport.objects.create(
                project=project,
                period_start=starts_on,
                period_end=starts_on + dt.timedelta(days=27),
                due_date=first_due,
                status="accepted",
                created_by=world.najat,
            )
    expected = len(overdue_reports(world.reviewer, on_date=today))
    assert expected > 10
    assert selectors.overdue_reports(Project.objects.all(), on_date=today) == {"reports": expected}
    assert selectors.overdue_reports(selectors.EVERY_PROJECT, on_date=today) == {"reports": expected}
    charity_a = Project.objects.filter(charity=world.charity_a)
    assert selectors.overdue_reports(charity_a, on_date=today) == {"reports": expected}
    assert selectors.overdue_reports(Project.objects.filter(charity=world.charity_b), on_date=today) == {"reports": 0}


def test_query_count_does_not_grow_with_projects(world):
    client = _client(world.reviewer)
    _clone(world.project_a, 5, start=0)

    def count(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    urls = [
        "/dashboard/ministry/",
        "/dashboard/ministry/map.json",
        "/dashboard/ministry/details/",
        "/dashboard/ministry/export.xlsx?country=SD",
    ]
    before = [count(url) for url in urls]
    _clone(world.project_a, 60, start=5)
    _clone(world.project_b, 40, country="JO", start=0)
    after = [count(url) for url in urls]
    assert after == before
    assert before[0] <= 40


def test_boundaries_file_is_geojson_with_alpha2_codes():
    path = Path(settings.BASE_DIR) / "static" / "vendor" / "boundaries" / "countries-110m.geojson"
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    codes = set()
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        code = feature["properties"]["iso_a2"]
        assert len(code) == 2 and code.isupper()
        codes.add(code)
        rings = (
            feature["geometry"]["coordinates"]
            if feature["geometry"]["type"] == "Polygon"
            else [ring for polygon in feature["geometry"]["coordinates"] for ring in polygon]
        )
        for ring in rings:
            assert ring[0] == ring[-1] and len(ring) >= 4
            assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring)
    assert {"SD", "JO", "YE", "SO", "KW", "LB"} <= codes


def _plan(organization, user, code: str):
    from shafaf.strategy.models import Plan, PlanVersion

    plan = Plan.objects.create(organization=organization, code=code, name_en=f"Plan {code}", created_by=user)
    return PlanVersion.objects.create(
        plan=plan,
        number=1,
        period_start=dt.date(2026, 1, 1),
        period_end=dt.date(2030, 12, 31),
        status="published",
        created_by=user,
    )


def test_objective_progress_per_role_and_filter(world):
    from shafaf.strategy.models import Objective, ProjectObjective

    _finance(world.project_a, 10_000)
    _finance(world.project_b, 20_000)
    ministry = Objective.objects.create(
        version=_plan(world.mosa, world.ministry_admin, "vision"), code="M1", title_en="Water for all"
    )
    own = Objective.objects.create(
        version=_plan(world.charity_a, world.najat, "noor"), code="N1", title_en="Wells", maps_to=ministry
    )
    ProjectObjective.objects.create(project=world.project_a, objective=own, linked_by=world.najat)
    ProjectObjective.objects.create(project=world.project_b, objective=ministry, linked_by=world.rahma)

    def progress(user, url):
        table = _details(user, url)["objectives"]
        return {row[0]: row[2] for row in table.rows}, table.links

    page = _client(world.reviewer).get("/dashboard/ministry/?country=SD")
    assert page.context["details_url"] == "/dashboard/ministry/details/?country=SD"
    assert _figures(page).objectives is None  # loaded after the first paint
    counts, links = progress(world.reviewer, "/dashboard/ministry/details/")
    assert counts == {"M1": 2}  # the ministry's plan only
    assert links == [f"/strategy/objectives/{ministry.pk}/"]
    assert progress(world.reviewer, "/dashboard/ministry/details/?country=JO")[0] == {"M1": 1}
    assert progress(world.najat, "/dashboard/charity/details/")[0] == {"M1": 1, "N1": 1}  # its own project only
    assert _client(world.donor).get("/dashboard/donor/details/").status_code == 404
    book = load_workbook(io.BytesIO(_client(world.najat).get("/dashboard/charity/export.xlsx").content))
    money = _sheet(book, "Money behind each objective")
    assert [[c.value for c in row] for row in money.iter_rows(min_row=2)] == [
        ["M1", "KWD", 10, 0, 0, 1],
        ["N1", "KWD", 10, 0, 0, 1],
    ]


def test_the_details_are_kept_in_the_cache(world, settings):
    from django.core.cache import cache

    from shafaf.strategy.models import Objective, ProjectObjective

    settings.SHAFAF_DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    objective = Objective.objects.create(
        version=_plan(world.mosa, world.ministry_admin, "vision"), code="M1", title_en="Water for all"
    )
    client = _client(world.reviewer)

    def linked(url):
        return {t.name: t for t in client.get(url).context["tables"]}["objectives"].rows[0][2]

    first = linked("/dashboard/ministry/details/")
    ProjectObjective.objects.create(project=world.project_a, objective=objective, linked_by=world.najat)
    with CaptureQueriesContext(connection) as captured:
        again = linked("/dashboard/ministry/details/")
    assert (first, again) == (0, 0)
    assert not any("strategy_objective" in query["sql"] for query in captured.captured_queries)
    # Another filter is another entry.
    assert linked("/dashboard/ministry/details/?country=SD") == 1
    cache.clear()
