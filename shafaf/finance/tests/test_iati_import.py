"""The IATI importer (shafaf.finance.iati_import, manage.py import_iati) on the upstream fixtures and on small
hand-written files: identifiers, states, budgets and revisions, converted transactions, idempotence, a missing
rate, and files that are not IATI at all."""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from shafaf.audit.models import AuditEvent
from shafaf.finance.iati_import import LINE_CODE
from shafaf.finance.models import (
    BudgetLine,
    BudgetPeriod,
    BudgetVersion,
    ExchangeRate,
    Expenditure,
    ProjectFinance,
)
from shafaf.projects.demo.iati import iter_activities
from shafaf.projects.models import Project, ProjectTransition

from .helpers_iati import load_rates_quickly

DATA = Path(settings.BASE_DIR).parent / "shared" / "data" / "iati_activities"
FOOD = DATA / "upstream_fixture_foodsecurity_dportal.xml"
COVID = DATA / "upstream_fixture_covid_dportal.xml"

pytestmark = pytest.mark.skipif(not FOOD.is_file(), reason="the shared IATI data is not beside the project")


@pytest.fixture
def rated(world):
    load_rates_quickly()
    return world


def run(path, charity="charity-a", *extra):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_iati", str(path), "--charity", charity, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(path, charity="charity-a", *extra):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_iati", str(path), "--charity", charity, *extra, stdout=out, stderr=err)
    return str(raised.value), out.getvalue(), err.getvalue()


def kwd(currency: str, day: dt.date) -> Decimal:
    if currency == "KWD":
        return Decimal(1)
    row = ExchangeRate.objects.filter(currency=currency, on_date__lte=day).order_by("-on_date").first()
    return Decimal(row.rate)


def cents(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


ACTIVITY = """
 <iati-activity default-currency="{currency}" last-updated-datetime="2021-01-01T00:00:00">
  <iati-identifier>{identifier}</iati-identifier>
  <reporting-org ref="XM-TEST" type="10"><narrative>Test publisher</narrative></reporting-org>
  <title><narrative>{title}</narrative></title>
  <description type="1"><narrative>Food parcels for displaced families.</narrative></description>
  <activity-status code="{status}"/>
  <activity-date type="1" iso-date="2020-01-01"/>
  <activity-date type="3" iso-date="2021-12-31"/>
  <recipient-country code="SD" percentage="100"/>
  <sector vocabulary="1" code="72040" percentage="100"/>
  {body}
 </iati-activity>"""


def budget(kind, start, end, value, currency="", status="2"):
    currency_attr = f' currency="{currency}"' if currency else ""
    return (
        f'<budget type="{kind}" status="{status}"><period-start iso-date="{start}"/><period-end iso-date="{end}"/>'
        f'<value value-date="{start}"{currency_attr}>{value}</value></budget>'
    )


def spending(kind, value, day, currency="", ref="", value_date=None):
    currency_attr = f' currency="{currency}"' if currency else ""
    ref_attr = f' ref="{ref}"' if ref else ""
    return (
        f'<transaction{ref_attr}><transaction-type code="{kind}"/><transaction-date iso-date="{day}"/>'
        f'<value value-date="{value_date or day}"{currency_attr}>{value}</value></transaction>'
    )


def iati_file(tmp_path, *activities, name="test.xml") -> Path:
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">'
        + "".join(activities)
        + "\n</iati-activities>\n",
        encoding="utf-8",
    )
    return path


def activity(identifier, *parts, currency="USD", status="2", title="Emergency food assistance"):
    return ACTIVITY.format(identifier=identifier, currency=currency, status=status, title=title, body="".join(parts))


# --- the reader ---------------------------------------------------------------------------------------------------


def test_the_reader_reads_budgets_and_transactions_and_keeps_its_other_fields():
    by_id = {a.identifier: a for a in iter_activities(FOOD)}
    nl = by_id["NL-KVK-30214009-C380"]
    assert nl.status == "2"
    assert next((b.type, b.status, b.period_start, b.value) for b in nl.budgets) == ("1", "1", "2021-01-01", "11461986")
    assert nl.transactions and nl.transactions[0].value_date
    # The fields the demo seed reads are still there.
    assert nl.titles and nl.sectors and nl.dates and by_id["DE-1-202033942-0"].recipient_countries == (("HT", 100.0),)
    mixed = by_id["US-EIN-06-1597-668-PU1-GL"]
    assert mixed.default_currency == "EUR"
    assert {t.currency for t in mixed.transactions if t.type == "4"} == {"USD"}


# --- the upstream fixture -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_food_security_fixture_becomes_projects_with_their_money(rated):
    out, err = run(FOOD)
    # The three activities without a recipient country (regional programmes) cannot be projects.
    usable = {"XI-IATI-EC_INTPA-2021/429-054", "GB-CHC-285776-NGR476", "DE-1-202033942-0", "DE-1-202175768-0"}
    projects = {
        p.iati_identifier: p for p in Project.objects.filter(charity=rated.charity_a).exclude(iati_identifier="")
    }
    assert set(projects) == usable
    assert "4 imported" in out and "3 not usable" in out
    assert "activities read" in err  # progress on stderr

    # Activity-status 2 (implementation): licensed and in execution, with the path recorded.
    for project in projects.values():
        assert project.status == "in_execution"
        assert project.licence_number.startswith("MOSA-")
        assert list(ProjectTransition.objects.filter(project=project).values_list("action", flat=True)) == [
            "submit",
            "approve",
            "start",
        ]
        events = AuditEvent.objects.filter(subject_type="projects.project", subject_id=str(project.pk))
        assert {"project.create", "project.submit", "project.approve", "project.start"} <= set(
            events.values_list("action", flat=True)
        )

    de = projects["DE-1-202033942-0"]
    # The dates as published, not shifted as the demo seed shifts them.
    assert (de.currency, de.planned_start, de.planned_end) == ("EUR", dt.date(2021, 1, 1), dt.date(2024, 12, 31))
    # Only a revised (type 2) budget: it is the budget.
    version = BudgetVersion.objects.get(project=de)
    assert (version.number, version.kind, version.status, version.source) == (1, "original", "committed", "iati")
    assert version.total_minor == 31500000
    assert list(BudgetPeriod.objects.filter(version=version).values_list("start", "end", "amount_minor")) == [
        (dt.date(2020, 1, 1), dt.date(2020, 12, 31), 31500000)
    ]
    line = BudgetLine.objects.get(project=de)
    assert (line.code, line.category, line.name_en, line.name_ar) == (
        LINE_CODE,
        "programme",
        "IATI budget",
        "ميزانية IATI",
    )
    assert line.version_amounts.get().amount_minor == version.total_minor
    assert AuditEvent.objects.filter(action="budget.create", subject_id=str(version.pk)).exists()
    spent = Expenditure.objects.get(project=de)
    assert (spent.amount_minor, spent.currency, spent.project_amount_minor) == (19502139, "EUR", 19502139)
    assert (spent.spent_on, spent.iati_type, spent.source, spent.evidence_kind) == (
        dt.date(2022, 10, 31),
        "4",
        "iati",
        "reported",
    )
    assert (spent.rate, spent.rate_date, spent.file.name or "") == ("", None, "")
    finance = ProjectFinance.objects.get(project=de)
    assert (finance.budget_minor, finance.spent_minor, finance.ratio_bp) == (31500000, 19502139, 6191)
    assert line.__class__.objects.get(pk=line.pk).spent_minor == 19502139

    # A budget of 0 with 116,091.44 EUR spent: beyond any threshold, a deviation opens.
    zero = projects["XI-IATI-EC_INTPA-2021/429-054"]
    finance = ProjectFinance.objects.get(project=zero)
    assert (finance.budget_minor, finance.spent_minor, finance.ratio_bp) == (0, 11609144, None)
    assert zero.deviations.exists()
    # An activity with a budget and no spending.
    assert ProjectFinance.objects.get(project=projects["GB-CHC-285776-NGR476"]).spent_minor == 0


@pytest.mark.django_db
def test_a_second_import_of_the_same_file_writes_nothing(rated):
    run(FOOD)
    counts = [
        m.objects.count() for m in (Project, BudgetVersion, BudgetPeriod, Expenditure, ProjectTransition, AuditEvent)
    ]
    out, _err = run(FOOD)
    assert "0 imported" in out and "4 skipped, already imported" in out
    after = [
        m.objects.count() for m in (Project, BudgetVersion, BudgetPeriod, Expenditure, ProjectTransition, AuditEvent)
    ]
    assert after == counts
    # Another charity imports the same activities as its own projects.
    out, _err = run(FOOD, "charity-b")
    assert "4 imported" in out
    assert Project.objects.filter(iati_identifier="DE-1-202033942-0").count() == 2


@pytest.mark.django_db
def test_the_covid_fixture_keeps_every_identifier(rated):
    from shafaf.projects.demo.activities import draft_from_activity

    first = [a for _i, a in zip(range(60), iter_activities(COVID), strict=False)]
    usable = {a.identifier for a in first if draft_from_activity(a) is not None}
    out, _err = run(COVID, "charity-b", "--limit", "60")
    imported = Project.objects.filter(charity=rated.charity_b).exclude(iati_identifier="")
    assert set(imported.values_list("iati_identifier", flat=True)) == usable
    assert f"{len(usable)} imported" in out and "60 activities read" in out


# --- budgets, revisions, states, rounding -------------------------------------------------------------------------


@pytest.mark.django_db
def test_revised_budgets_replace_the_originals_of_their_period_and_transactions_are_rounded_and_converted(
    rated, tmp_path
):
    path = iati_file(
        tmp_path,
        activity(
            "XM-TEST-REVISED",
            budget("1", "2020-01-01", "2020-12-31", "1000.00"),
            budget("1", "2021-01-01", "2021-12-31", "2000.00", status="1"),
            budget("2", "2021-01-01", "2021-12-31", "2500.50"),
            spending("3", "1234.5600000001", "2020-03-01", ref="TX-1"),
            spending("4", "-100", "2020-04-01", ref="TX-REVERSAL"),
            spending("4", "500", "2020-06-15", currency="GBP", ref="TX-GBP"),
            spending("2", "99999", "2020-01-10"),  # a commitment: not spending
            spending("4", "0.001", "2020-05-01"),  # rounds to nothing: not stored
        ),
        activity(
            "XM-TEST-PIPELINE", budget("1", "2021-01-01", "2021-12-31", "10", currency="EUR"), currency="", status="1"
        ),
    )
    out, _err = run(path)
    project = Project.objects.get(iati_identifier="XM-TEST-REVISED")
    assert project.status == "in_execution" and project.currency == "USD"
    original, revised = BudgetVersion.objects.filter(project=project).order_by("number")
    assert (original.kind, original.total_minor, original.status) == ("original", 300000, "indicative")
    assert (revised.kind, revised.total_minor, revised.status) == ("revision", 350050, "committed")
    assert revised.reason
    assert list(revised.periods.values_list("start", "amount_minor")) == [
        (dt.date(2020, 1, 1), 100000),
        (dt.date(2021, 1, 1), 250050),
    ]
    line = BudgetLine.objects.get(project=project)
    assert sorted(line.version_amounts.values_list("amount_minor", flat=True)) == [300000, 350050]

    rows = {row.reference: row for row in Expenditure.objects.filter(project=project)}
    assert set(rows) == {"TX-1", "TX-REVERSAL", "TX-GBP"}
    # 1234.5600000001 USD: rounded half-even to the cent, the publisher's value noted on the row.
    assert rows["TX-1"].amount_minor == 123456 and "1234.5600000001" in rows["TX-1"].description
    assert (rows["TX-1"].iati_type, rows["TX-1"].rate, rows["TX-1"].rate_date) == ("3", "", None)
    assert rows["TX-REVERSAL"].amount_minor == -10000 == rows["TX-REVERSAL"].project_amount_minor
    gbp = rows["TX-GBP"]
    assert (gbp.currency, gbp.amount_minor) == ("GBP", 50000)
    assert gbp.project_amount_minor == cents(Decimal(500) * kwd("GBP", gbp.rate_date) / kwd("USD", gbp.rate_date))
    assert dt.date(2020, 5, 15) <= gbp.rate_date <= dt.date(2020, 6, 15)
    finance = ProjectFinance.objects.get(project=project)
    assert finance.budget_version_id == revised.pk and finance.budget_minor == 350050
    assert finance.spent_minor == 123456 - 10000 + gbp.project_amount_minor
    assert "1 revisions" in out and "3 disbursements and expenditures" in out

    # Activity-status 1 (pipeline): submitted, without a licence; no default-currency: its budgets' currency.
    pipeline = Project.objects.get(iati_identifier="XM-TEST-PIPELINE")
    assert (pipeline.status, pipeline.licence_number, pipeline.currency) == ("submitted", "", "EUR")
    assert list(pipeline.transitions.values_list("action", flat=True)) == ["submit"]


@pytest.mark.django_db
def test_spending_beyond_the_budget_opens_a_deviation(rated, tmp_path):
    path = iati_file(
        tmp_path,
        activity("XM-TEST-OVER", budget("1", "2020-01-01", "2020-12-31", "1000"), spending("4", "1200", "2020-03-01")),
        activity("XM-TEST-UNDER", budget("1", "2020-01-01", "2020-12-31", "1000"), spending("4", "900", "2020-03-01")),
    )
    _out, _err = run(path)
    over = Project.objects.get(iati_identifier="XM-TEST-OVER")
    under = Project.objects.get(iati_identifier="XM-TEST-UNDER")
    assert over.deviations.exists()
    assert not under.deviations.exists()
    assert ProjectFinance.objects.get(project=over).ratio_bp == 12000


# --- refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_rate_is_reported_with_its_currency_and_date_and_nothing_of_that_activity_is_written(rated, tmp_path):
    path = iati_file(
        tmp_path,
        activity(
            "XM-TEST-NORATE", budget("1", "2015-01-01", "2015-12-31", "1000"), spending("4", "10", "2015-03-02", "GBP")
        ),
        activity("XM-TEST-FINE", budget("1", "2020-01-01", "2020-12-31", "1000"), spending("4", "10", "2020-03-02")),
    )
    message, out, err = run_failing(path)
    assert "1 activities could not be imported" in message
    assert "XM-TEST-NORATE" in err and "GBP" in err and "2015-03-02" in err
    assert not Project.objects.filter(iati_identifier="XM-TEST-NORATE").exists()
    assert Project.objects.filter(iati_identifier="XM-TEST-FINE").exists()
    assert "1 errors" in out
    # Once the ministry enters the rate, importing the file again brings the rest and only the rest.
    ExchangeRate.objects.create(currency="GBP", on_date=dt.date(2015, 3, 1), rate="0.45")
    ExchangeRate.objects.create(currency="USD", on_date=dt.date(2015, 3, 1), rate="0.30")
    out, _err = run(path)
    assert "1 imported" in out and "1 skipped, already imported" in out
    row = Expenditure.objects.get(project__iati_identifier="XM-TEST-NORATE")
    assert (row.project_amount_minor, row.rate_date) == (1500, dt.date(2015, 3, 1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('<?xml version="1.0"?><iati-activities><iati-activity><iati-identifier>X', "not well-formed XML"),
        ("this is not XML at all", "not well-formed XML"),
        ('<?xml version="1.0"?><grants><grant id="1"/></grants>', "not an IATI activities file"),
    ],
)
def test_garbage_is_refused_whole(rated, tmp_path, content, expected):
    path = tmp_path / "bad.xml"
    # A good activity first: a file broken further on must not leave it half-imported.
    good = activity("XM-TEST-GOOD", budget("1", "2020-01-01", "2020-12-31", "1000"))
    path.write_text(content.replace("<iati-activities>", "<iati-activities>" + good), encoding="utf-8")
    before = AuditEvent.objects.count()
    message, _out, _err = run_failing(path)
    assert expected in message and "nothing was imported" in message
    assert not Project.objects.filter(charity=rated.charity_a).exclude(iati_identifier="").exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.django_db
def test_an_unreadable_amount_or_date_refuses_that_activity_only(rated, tmp_path):
    path = iati_file(
        tmp_path,
        activity("XM-TEST-BADVALUE", budget("1", "2020-01-01", "2020-12-31", "a lot")),
        activity("XM-TEST-BADDATE", budget("1", "2020-01-01", "2020-12-31", "5"), spending("4", "1", "31/12/2020")),
        activity("XM-TEST-NEGATIVE", budget("1", "2020-01-01", "2020-12-31", "-5")),
        activity("XM-TEST-OK", budget("1", "2020-01-01", "2020-12-31", "5")),
    )
    _message, _out, err = run_failing(path)
    assert "“a lot” is not an amount" in err
    assert "“31/12/2020” is not a date" in err
    assert "-5 is negative" in err
    assert list(Project.objects.exclude(iati_identifier="").values_list("iati_identifier", flat=True)) == ["XM-TEST-OK"]


@pytest.mark.django_db
def test_the_charity_must_exist_unless_asked_to_create_it(rated):
    message, _out, _err = run_failing(FOOD, "nobody")
    assert "--create-charity" in message
    out, _err = run(FOOD, "new-charity", "--create-charity", "--limit", "2")
    assert Project.objects.filter(charity__slug="new-charity").count() >= 1
    assert "2 activities read" in out


@pytest.mark.django_db
def test_the_set_based_roll_ups_agree_with_the_per_project_refresh(rated, tmp_path):
    from shafaf.finance import rollup, rollup_bulk

    path = iati_file(
        tmp_path,
        activity(
            "XM-TEST-A",
            budget("1", "2020-01-01", "2020-12-31", "1000"),
            budget("2", "2020-01-01", "2020-12-31", "800"),
            spending("4", "850", "2020-03-01"),
        ),
        activity("XM-TEST-B", budget("1", "2020-01-01", "2020-12-31", "1000"), spending("3", "1000", "2020-03-01")),
        activity("XM-TEST-C", budget("1", "2020-01-01", "2020-12-31", "1000"), spending("3", "90", "2020-03-01")),
    )
    run(FOOD)
    run(path)
    fields = ["budget_version_id", "budget_minor", "spent_minor", "disbursed_minor", "ratio_bp"]
    fields += ["worst_line_ratio_bp", "lines_over", "open_deviations", "warning", "risk"]
    bulk = {row["project_id"]: row for row in ProjectFinance.objects.values("project_id", *fields)}
    assert len(bulk) >= 7
    for project in Project.objects.filter(pk__in=bulk):
        rollup.refresh(project)
    single = {row["project_id"]: row for row in ProjectFinance.objects.values("project_id", *fields)}
    assert single == bulk
    # And back: the set-based refresh of everything writes the same figures.
    BudgetLine.objects.update(spent_minor=0)
    ProjectFinance.objects.update(spent_minor=0, risk=0, ratio_bp=None)
    assert rollup_bulk.refresh_projects() == Project.objects.count()
    after = {row["project_id"]: row for row in ProjectFinance.objects.values("project_id", *fields)}
    assert {pk: after[pk] for pk in single} == single
    assert set(after) == set(Project.objects.values_list("pk", flat=True))  # missing roll-ups created too
    a = ProjectFinance.objects.get(project__iati_identifier="XM-TEST-A")
    assert (a.budget_minor, a.spent_minor, a.ratio_bp, a.lines_over) == (80000, 85000, 10625, 0)
    assert a.warning  # spent beyond the budget, within the line's 10 % threshold
