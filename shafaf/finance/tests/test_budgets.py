"""Budget services and reads: exact sums (ten 0.100 KWD are 1.000 KWD on every database), versions and their
history, revisions need a reason, every bad amount a field error with nothing written, periods within the project's
dates, who may act, the licensed administrative share, tranches, and the rulebook's budget checks on real budgets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.core.money import Money
from shafaf.finance import budgets, selectors, selectors_budgets
from shafaf.finance.models import (
    AdminShareLicence,
    BudgetLine,
    BudgetPeriod,
    BudgetVersion,
    BudgetVersionLine,
    Expenditure,
    ProjectFinance,
    Tranche,
)
from shafaf.projects.models import Project
from shafaf.projects.rulebook import engine
from tests.factories import budget

from .helpers import english, finance_officer, license_project, register

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 29)


def line(amount, category="programme", name="Well", **extra) -> dict:
    return {"category": category, "name_en": name, "name_ar": "بند", "amount": amount, **extra}


def create(world, project=None, lines=None, **kwargs):
    with english():
        return budgets.budget_version_create(
            actor=kwargs.pop("actor", world.najat),
            project=project or world.project_a,
            lines=lines if lines is not None else [line("100.000")],
            **kwargs,
        )


def nothing_written(before_events: int) -> None:
    assert not BudgetVersion.objects.exists()
    assert not BudgetLine.objects.exists()
    assert not BudgetVersionLine.objects.exists()
    assert not BudgetPeriod.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="budget.").count() == 0
    assert AuditEvent.objects.count() == before_events


# --- exact sums -------------------------------------------------------------------------------------------------


def test_ten_times_a_hundred_fils_is_exactly_one_dinar(world):
    version = create(world, lines=[line("0.100", name=f"Line {i}") for i in range(10)])
    version.refresh_from_db()
    assert version.total_minor == 1000 and version.total == Money.of("1.000", "KWD")
    assert [row.amount_minor for row in version.line_amounts.all()] == [100] * 10
    assert sorted(BudgetLine.objects.values_list("code", flat=True), key=int) == [str(i) for i in range(1, 11)]
    # The database sums the stored amounts exactly too (integers, never DECIMAL as a float on SQLite).
    from django.db.models import Sum

    assert version.line_amounts.aggregate(total=Sum("amount_minor"))["total"] == 1000
    assert selectors.project_budget_summary(world.project_a) == {"total_minor": 1000, "currency": "KWD", "lines": 10}


def test_admin_total_and_money_values(world):
    version = create(
        world,
        lines=[line("1250.500"), line(Money.of("0.250", "KWD"), "administration", "Admin"), line(Decimal("3"))],
    )
    assert (version.total_minor, version.admin_minor) == (1253750, 250)
    event = AuditEvent.objects.get(action="budget.create")
    assert event.subject_id == str(version.pk) and event.organization_id == world.charity_a.pk
    assert event.changes["total"] == [None, {"amount": "1253.750", "currency": "KWD"}]


def test_the_project_finance_roll_up_follows_the_budget(world):
    version = create(world, lines=[line("40.000"), line("10.000", "administration", "Admin")])
    finance = ProjectFinance.objects.get(project=world.project_a)
    assert finance.budget_minor == 50000 and finance.budget_version_id == version.pk


# --- versions and history -----------------------------------------------------------------------------------------


def test_revisions_keep_the_history(world):
    first = create(world, lines=[line("100.000", code="A"), line("20.000", "administration", "Admin", code="B")])
    with english(), pytest.raises(DomainError) as refused:
        create(world, lines=[line("150.000", code="A")])
    assert "reason" in refused.value.fields and BudgetVersion.objects.count() == 1
    second = create(world, lines=[line("150.000", code="A"), line("5.000", name="Survey")], reason="Prices rose")
    assert (first.number, first.kind, second.number, second.kind) == (1, "original", 2, "revision")
    assert second.reason == "Prices rose" and second.total_minor == 155000 and second.admin_minor == 0
    # B is left out: 0 in version 2, and the line itself stays (expenditures point to it).
    amounts = {row.line.code: row.amount_minor for row in second.line_amounts.select_related("line")}
    assert amounts == {"A": 150000, "B": 0, "1": 5000}
    assert BudgetLine.objects.filter(project=world.project_a).count() == 3
    first.refresh_from_db()
    assert first.total_minor == 120000  # the original is untouched

    history = selectors_budgets.budget_history(world.project_a)
    assert [entry.version.number for entry in history] == [2, 1]
    changes = {change.code: (change.before, change.after, change.kind) for change in history[0].changes}
    assert changes == {
        "1": (Money(0, "KWD"), Money(5000, "KWD"), "added"),
        "A": (Money(100000, "KWD"), Money(150000, "KWD"), "changed"),
        "B": (Money(20000, "KWD"), Money(0, "KWD"), "removed"),
    }
    assert history[0].total_difference == Money(35000, "KWD")
    assert [change.code for change in history[1].changes] == ["A", "B"] and history[1].previous_total is None
    current = selectors_budgets.current_budget(world.project_a)
    assert current.version == second and [item.code for item in current.lines] == ["1", "A"]
    assert selectors.project_budget_summary(world.project_a)["lines"] == 2
    event = AuditEvent.objects.get(action="budget.revise")
    assert event.reason == "Prices rose" and event.changes["lines"]["B"] == [20000, 0]


def test_a_revision_on_a_licensed_project_is_recorded(world):
    create(world)
    project = license_project(world)
    officer = finance_officer(world)
    with english(), pytest.raises(DomainError):
        create(world, project, actor=officer, lines=[line("90.000", code="1")])
    version = create(world, project, actor=officer, lines=[line("90.000", code="1")], reason="Smaller scope")
    assert version.number == 2
    assert AuditEvent.objects.get(action="budget.revise").changes["project_licensed"] == [None, True]
    project.refresh_from_db()
    assert project.status == "approved"  # recorded only: the re-review is not started from here


def test_the_original_is_not_entered_by_hand_on_a_licensed_project(world):
    project = license_project(world)
    with english(), pytest.raises(Conflict) as refused:
        create(world, project)
    assert refused.value.code == "original_budget_locked"
    # An import may bring it (the IATI importer, a spreadsheet).
    assert create(world, project, source="import").source == "import"


def test_commit(world):
    first = create(world)
    with english(), pytest.raises(Conflict):
        budgets.budget_commit(actor=world.najat, version=create(world, reason="r") and first)
    current = BudgetVersion.objects.get(number=2)
    with english(), pytest.raises(NotAllowed):
        budgets.budget_commit(actor=world.staff_a, version=current)
    assert budgets.budget_commit(actor=world.najat, version=current).status == "committed"
    current.refresh_from_db()
    assert current.status == "committed"
    with english(), pytest.raises(Conflict):
        budgets.budget_commit(actor=world.najat, version=current)
    assert AuditEvent.objects.filter(action="budget.commit").count() == 1


# --- bad input --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["0.0001", "-5", "abc", "1000000000000000", "1e15", "5 XYZ", "5 USD", "", Money.of("5", "USD"), 1.5, None],
)
def test_bad_amounts_are_field_errors_and_nothing_is_written(world, amount):
    before = AuditEvent.objects.count()
    with english(), pytest.raises(DomainError) as refused:
        create(world, lines=[line("10.000"), line(amount)])
    assert refused.value.status == 400
    assert list(refused.value.fields) == ["lines-1-amount"], refused.value.fields
    assert refused.value.fields["lines-1-amount"][0]
    nothing_written(before)


def test_every_bad_row_is_reported_at_once(world):
    before = AuditEvent.objects.count()
    rows = [
        {"category": "nonsense", "amount": "1"},
        line("0.0001"),
        line("1", code="X"),
        line("2", code="X"),
    ]
    with english(), pytest.raises(DomainError) as refused:
        create(world, lines=rows)
    assert set(refused.value.fields) == {"lines-0-category", "lines-0-name_ar", "lines-1-amount", "lines-3-code"}
    assert "more decimals" in refused.value.fields["lines-1-amount"][0]
    nothing_written(before)


def test_a_usd_project_refuses_fils(world):
    project = world.project_a
    Project.objects.filter(pk=project.pk).update(currency="USD")
    project.refresh_from_db()
    with english(), pytest.raises(DomainError) as refused:
        create(world, project, lines=[line("0.001")])
    assert "lines-0-amount" in refused.value.fields
    assert create(world, project, lines=[line("0.01")]).total == Money(1, "USD")


def test_no_lines_and_bad_status_are_refused(world):
    with english(), pytest.raises(DomainError) as refused:
        create(world, lines=[], status="final")
    assert set(refused.value.fields) == {"lines", "status"}


@pytest.mark.parametrize(
    ("periods", "field"),
    [
        ([{"start": "2026-12-01", "end": "2027-03-31", "amount": "1"}], "periods-0-start"),
        ([{"start": "2027-10-01", "end": "2028-01-31", "amount": "1"}], "periods-0-end"),
        ([{"start": "2027-03-01", "end": "2027-02-01", "amount": "1"}], "periods-0-end"),
        ([{"start": "someday", "end": "2027-02-01", "amount": "1"}], "periods-0-start"),
        ([{"start": "2027-01-01", "end": "2027-02-01", "amount": "-1"}], "periods-0-amount"),
        (
            [
                {"start": "2027-01-01", "end": "2027-06-30", "amount": "1"},
                {"start": "2027-06-30", "end": "2027-12-31", "amount": "1"},
            ],
            "periods-1-start",
        ),
    ],
)
def test_bad_periods_are_refused(world, periods, field):
    before = AuditEvent.objects.count()
    with english(), pytest.raises(DomainError) as refused:
        create(world, periods=periods)
    assert field in refused.value.fields, refused.value.fields
    nothing_written(before)


def test_periods_outside_the_project_name_its_dates(world):
    with english(), pytest.raises(DomainError) as refused:
        create(world, periods=[{"start": "2026-12-01", "end": "2027-03-31", "amount": "1"}])
    assert "2027-01-01 – 2027-12-31" in refused.value.fields["periods-0-start"][0]


def test_good_periods_are_kept(world):
    version = create(
        world,
        periods=[
            {"start": dt.date(2027, 7, 1), "end": dt.date(2027, 12, 31), "amount": "60.000"},
            {"start": "2027-01-01", "end": "2027-06-30", "amount": "40.000"},
        ],
    )
    assert [(p.start.month, p.amount_minor) for p in version.periods.order_by("start")] == [(1, 40000), (7, 60000)]


# --- who may act ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_a", "rahma", "reviewer", "ministry_admin", "donor", "partner", "auditor"])
def test_only_the_charitys_admins_and_finance_officers_enter_a_budget(world, persona):
    before = AuditEvent.objects.count()
    with english(), pytest.raises(NotAllowed):
        create(world, actor=world.personas()[persona])
    nothing_written(before)


def test_a_finance_officer_enters_the_budget(world):
    assert create(world, actor=finance_officer(world)).number == 1


def test_the_budget_is_locked_in_review(world):
    Project.objects.filter(pk=world.project_a.pk).update(status="submitted")
    world.project_a.refresh_from_db()
    with english(), pytest.raises(Conflict):
        create(world)


def test_versions_are_visible_only_with_the_project(world):
    create(world)
    budget(world, world.project_b)
    assert selectors_budgets.budget_versions(world.rahma).get().project == world.project_b
    assert selectors_budgets.budget_versions(world.reviewer).count() == 2
    assert selectors_budgets.budget_versions(world.auditor).count() == 2
    assert not selectors_budgets.budget_versions(world.donor).exists()
    assert not selectors_budgets.budget_versions(world.partner_reporter).exists()  # project_a is a draft


# --- administrative share and the rulebook --------------------------------------------------------------------


def test_admin_share_licence(world):
    with english(), pytest.raises(NotAllowed):
        budgets.admin_share_licence_set(actor=world.reviewer, charity=world.charity_a, percent="10")
    for bad in ("abc", "-1", "100.01", "12.345", 12.5):
        with english(), pytest.raises(DomainError) as refused:
            budgets.admin_share_licence_set(actor=world.ministry_admin, charity=world.charity_a, percent=bad)
        assert "percent" in refused.value.fields
    with english(), pytest.raises(DomainError):
        budgets.admin_share_licence_set(actor=world.ministry_admin, charity=world.partner, percent="10")
    assert not AdminShareLicence.objects.exists()
    licence = budgets.admin_share_licence_set(actor=world.ministry_admin, charity=world.charity_a, percent="12.5")
    assert licence.percent_bp == 1250
    budgets.admin_share_licence_set(actor=world.ministry_admin, charity=world.charity_a, percent="7")
    assert AdminShareLicence.objects.get().percent_bp == 700
    changes = [e.changes["percent_bp"] for e in AuditEvent.objects.filter(action="admin_share.set").order_by("seq")]
    assert changes == [[None, 1250], [1250, 700]]


def test_administrative_share_is_computed_exactly(world):
    assert selectors.administrative_share(world.project_a) is None
    create(world, lines=[line("2.000"), line("1.000", "administration", "Admin")])
    assert selectors.administrative_share(world.project_a) == {
        "share_percent": Decimal("33.33"),
        "licensed_percent": None,
    }
    create(world, lines=[line("1.000", code="1"), line("1.000", "administration", code="2")], reason="r")
    budgets.admin_share_licence_set(actor=world.ministry_admin, charity=world.charity_a, percent="12.5")
    assert selectors.administrative_share(world.project_a) == {
        "share_percent": Decimal("50.00"),
        "licensed_percent": Decimal("12.50"),
    }
    # 1/8 = 12.5 %; 1/6 = 16.666… → 16.67 (half up); 2/3 of a fils difference never drifts through floats.
    assert selectors._percent_of(1, 8) == Decimal("12.50")
    assert selectors._percent_of(1, 6) == Decimal("16.67")
    assert selectors._percent_of(1, 200000) == Decimal("0.00") and selectors._percent_of(1, 20000) == Decimal("0.01")


def rulebook(project, code):
    (result,) = [r for r in engine.evaluate(project, stage="approval", today=TODAY) if r.code == code]
    return result


def test_the_rulebook_checks_pass_on_a_real_budget_within_the_licence(world):
    assert rulebook(world.project_a, "budget_present").blocking
    assert rulebook(world.project_a, "admin_share_within_licence").blocking
    budget(world, world.project_a)  # 500 of 10,500 = 4.76 %, licence 12.5 %
    present = rulebook(world.project_a, "budget_present")
    assert present.passed and present.available
    assert present.facts["total_minor"] == 10_500_000 and present.facts["lines"] == 2
    share = rulebook(world.project_a, "admin_share_within_licence")
    assert share.passed and share.facts["share_percent"] == "4.76" and share.facts["licensed_percent"] == "12.50"


def test_the_admin_share_check_fails_above_the_licence(world):
    budget(
        world,
        world.project_a,
        lines=[line("80.000"), line("20.000", "administration", "Admin")],
        licence="12.5",
    )
    result = rulebook(world.project_a, "admin_share_within_licence")
    assert result.blocking and "20.00" in result.message_en and "12.50" in result.message_en
    budgets.admin_share_licence_set(actor=world.ministry_admin, charity=world.charity_a, percent="20")
    assert rulebook(world.project_a, "admin_share_within_licence").passed


def test_a_budget_of_only_zero_lines_does_not_pass(world):
    create(world, lines=[line("0")])
    result = rulebook(world.project_a, "budget_present")
    assert result.blocking and result.facts["lines"] == 0
    assert selectors.administrative_share(world.project_a) is None


def test_expenditures_after(world):
    create(world)
    project = license_project(world)
    budget_line = BudgetLine.objects.get(project=project)
    for day in (dt.date(2027, 12, 31), dt.date(2028, 1, 2)):
        Expenditure.objects.create(
            project=project,
            line=budget_line,
            amount_minor=1000,
            currency="KWD",
            project_amount_minor=1000,
            spent_on=day,
            evidence_kind="invoice",
            recorded_by=world.najat,
        )
    found = selectors.expenditures_after(project, project.planned_end)
    assert [e.spent_on for e in found] == [dt.date(2028, 1, 2)]

    # The oversight rule reads it for real: one expenditure after the end raises the ministry's alert.
    from shafaf.projects.oversight import services as oversight
    from shafaf.projects.oversight.models import Alert

    Project.objects.filter(pk=project.pk).update(status="in_execution")
    summary = oversight.alerts_raise(today=dt.date(2028, 2, 1))
    assert "spending_after_end" not in summary.unavailable
    alert = Alert.objects.get(project=project, rule="spending_after_end")
    assert alert.facts == {"planned_end": "2027-12-31", "expenditures": 1}


# --- tranches -----------------------------------------------------------------------------------------------------


def test_tranches_never_exceed_the_contract(world):
    create(world)
    project = license_project(world)
    contract = register(world, project, amount="1000.000")
    with english():
        first = budgets.tranche_plan(
            actor=world.najat, contract=contract, number=1, planned_on=dt.date(2026, 2, 1), amount="600.000"
        )
        assert first.amount == Money(600000, "KWD")
        with pytest.raises(DomainError) as refused:
            budgets.tranche_plan(
                actor=world.najat, contract=contract, number=2, planned_on="2026-03-01", amount="400.001"
            )
        assert "above the contract" in refused.value.fields["amount"][0]
        with pytest.raises(DomainError) as refused:
            budgets.tranche_plan(actor=world.najat, contract=contract, number=1, planned_on="2026-03-01", amount="1")
        assert "number" in refused.value.fields
        with pytest.raises(DomainError) as refused:
            budgets.tranche_plan(actor=world.najat, contract=contract, number=3, planned_on="2025-01-01", amount="1")
        assert "planned_on" in refused.value.fields
        for bad in ("0", "-1", "0.0001", "abc"):
            with pytest.raises(DomainError) as refused:
                budgets.tranche_plan(
                    actor=world.najat, contract=contract, number=4, planned_on="2026-03-01", amount=bad
                )
            assert "amount" in refused.value.fields
        with pytest.raises(NotAllowed):
            budgets.tranche_plan(actor=world.rahma, contract=contract, number=2, planned_on="2026-03-01", amount="1")
        budgets.tranche_plan(actor=world.najat, contract=contract, number=2, planned_on="2026-03-01", amount="400.000")
    assert Tranche.objects.filter(contract=contract).count() == 2
    assert AuditEvent.objects.filter(action="tranche.plan").count() == 2


# --- the race -----------------------------------------------------------------------------------------------------


def test_two_revisions_at_once_get_two_numbers(transactional_db, tmp_path):
    """Two threads, each with its own connection, revise the same budget at the same moment: versions 2 and 3
    (or a clear conflict for one of them), never two versions with one number."""
    import threading

    from tests.concurrency import run_and_wait, run_in_thread, threaded_database
    from tests.factories import World

    world = World()
    create(world, world.project_a)
    db_settings = threaded_database(tmp_path)
    barrier = threading.Barrier(2)

    def revise(amount):
        def run():
            project = Project.objects.select_related("charity").get(pk=world.project_a.pk)
            barrier.wait(timeout=10)
            with english():
                return budgets.budget_version_create(
                    actor=world.najat, project=project, lines=[line(amount, code="1")], reason="Race"
                ).number

        return run

    running = [run_in_thread(revise(amount), db_settings=db_settings) for amount in ("1.000", "2.000")]
    for thread, _outcome in running:
        thread.join(timeout=60)
    outcomes = [outcome for _thread, outcome in running]
    numbers = sorted(o["value"] for o in outcomes if "value" in o)
    errors = [o["error"] for o in outcomes if "error" in o]
    assert numbers == [2, 3] or (numbers in ([2], [3]) and isinstance(errors[0], Conflict)), outcomes

    def check():
        return sorted(BudgetVersion.objects.filter(project_id=world.project_a.pk).values_list("number", flat=True))

    assert run_and_wait(check, db_settings=db_settings) == [1, *numbers]
