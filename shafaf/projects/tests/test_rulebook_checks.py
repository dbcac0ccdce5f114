"""The rulebook's checks, one by one, passing and failing with their facts; the engine's rules (stages,
disabled checks, severity overrides, checks that cannot run yet, a check that raises). No writes here."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import translation

from shafaf.accounts.choices import OrganizationKind
from shafaf.audit.models import AuditEvent
from shafaf.projects.choices import BeneficiaryGroup, ProjectModel
from shafaf.projects.models import Project
from shafaf.projects.rulebook import checks, engine
from shafaf.projects.rulebook.models import RulebookRun
from tests.factories import OrganizationFactory, attach_required_documents, budget, make_project

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 29)
# Every interface exists now (no_undecided_overlap since shafaf.coordination): none left to wait for.
UNAVAILABLE: list[str] = []


def settings_with(code: str, **changes) -> dict:
    """The defaults, with one check's setting changed (thresholds are merged)."""
    settings = engine.default_settings()
    thresholds = {**settings[code].thresholds, **changes.pop("thresholds", {})}
    settings[code] = replace(settings[code], thresholds=thresholds, **changes)
    return settings


def result_of(project, code: str, *, stage: str = "approval", settings=None, today=TODAY) -> engine.CheckResult:
    results = engine.evaluate(project, stage=stage, settings=settings or engine.default_settings(), today=today)
    (result,) = [r for r in results if r.code == code]
    return result


def fake_interfaces(monkeypatch, **functions):
    """Makes checks.load_interface answer these functions (by the interface's last name), as if the later
    apps were installed."""
    real = checks.load_interface

    def load(path, app=""):
        name = path.rpartition(".")[2]
        return functions[name] if name in functions else real(path, app)

    monkeypatch.setattr(checks, "load_interface", load)


# --- required_fields ------------------------------------------------------------------------------------


def test_required_fields_pass_for_a_complete_external_project(world):
    result = result_of(world.project_a, "required_fields")
    assert result.passed and not result.blocking
    assert result.severity == "blocking"
    assert result.facts["missing"] == []
    assert result.facts["project_model"] == "construction_external"
    assert result.facts["locations"] == 1


def test_required_fields_fail_when_an_external_project_has_no_partner(world):
    result = result_of(world.project_b, "required_fields")
    assert not result.passed and result.blocking
    assert result.facts["missing"] == ["implementing_partner"]
    assert "implementing partner" in result.message_en
    assert "الشريك المنفذ الخارجي" in result.message_ar
    assert "كفالة (خارجية)" in result.message_ar  # the project model, in Arabic


def test_required_fields_list_everything_missing(world):
    project = make_project(
        world.najat,
        world.charity_a,
        locations=[],
        title_ar="",
        title_en="Only an English title",
        description_ar="",
        description_en="",
    )
    result = result_of(project, "required_fields")
    assert result.blocking
    assert result.facts["missing"] == ["title_ar", "description", "locations", "implementing_partner"]
    assert result.facts["locations"] == 0
    # The ministry may accept projects titled in English only.
    settings = settings_with("required_fields", thresholds={"require_title_ar": False})
    assert result_of(project, "required_fields", settings=settings).facts["missing"] == [
        "description",
        "locations",
        "implementing_partner",
    ]


def test_internal_projects_need_no_partner(world):
    project = make_project(
        world.najat,
        world.charity_a,
        project_model=ProjectModel.SOCIAL_DEVELOPMENT_INTERNAL,
        country="KW",
        locations=[{"admin_area_ar": "الجهراء", "admin_area_en": "Jahra"}],
    )
    assert result_of(project, "required_fields").passed
    partner = result_of(project, "external_partner_known")
    assert partner.passed and partner.facts == {"external": False}


def test_required_fields_thresholds(world):
    project = make_project(world.najat, world.charity_a, implementing_partner=world.partner, title_en="")
    assert result_of(project, "required_fields").passed
    settings = settings_with(
        "required_fields",
        thresholds={"require_title_en": True, "construction_needs_point": True, "min_locations": 2},
    )
    result = result_of(project, "required_fields", settings=settings)
    assert result.facts["missing"] == ["title_en", "locations", "location_point"]
    assert result.facts["require_title_en"] is True and result.facts["min_locations"] == 2
    with_point = make_project(
        world.najat,
        world.charity_a,
        implementing_partner=world.partner,
        locations=[
            {
                "admin_area_ar": "الفاشر",
                "admin_area_en": "El Fasher",
                "latitude": Decimal("13.6"),
                "longitude": Decimal("25.3"),
            },
            {"admin_area_en": "Kutum"},
        ],
    )
    assert result_of(with_point, "required_fields", settings=settings).passed


# --- dates_coherent -------------------------------------------------------------------------------------


def test_dates_coherent_pass(world):
    result = result_of(world.project_a, "dates_coherent", stage="submission")
    assert result.passed
    assert result.facts["planned_start"] == "2027-01-01"
    assert result.facts["duration_months"] == 12
    assert result.facts["start_checked"] is True


def test_a_start_in_the_past_fails_at_submission_only(world):
    late = TODAY + dt.timedelta(days=40)  # the project's start, 2027-01-01, is 9 days before this "today"
    result = result_of(world.project_a, "dates_coherent", stage="submission", today=late)
    assert result.blocking
    assert result.facts["problems"] == ["start_in_past"]
    assert "2027-01-01" in result.message_en and "2027-01-01" in result.message_ar
    assert result_of(world.project_a, "dates_coherent", stage="approval", today=late).passed
    grace = settings_with("dates_coherent", thresholds={"start_grace_days": 10})
    assert result_of(world.project_a, "dates_coherent", stage="submission", today=late, settings=grace).passed


def test_a_project_longer_than_the_maximum_fails(world):
    long = make_project(world.najat, world.charity_a, planned_end=dt.date(2032, 6, 30))
    result = result_of(long, "dates_coherent")
    assert result.blocking
    assert result.facts["duration_months"] == 66
    assert result.facts["problems"] == ["too_long"]
    assert result_of(
        long, "dates_coherent", settings=settings_with("dates_coherent", thresholds={"max_duration_months": 66})
    ).passed


def test_an_end_before_the_start_fails(world):
    # The database refuses such dates; an unsaved project (a preview of a form) still gets a clear answer.
    project = Project(**{**_fields(world.project_a), "planned_end": dt.date(2026, 12, 1)})
    outcome = checks.REGISTRY["dates_coherent"].function(
        project,
        checks.Context(stage="approval", today=TODAY, thresholds={"start_grace_days": 0, "max_duration_months": 60}),
    )
    assert not outcome.passed
    assert outcome.facts["problems"] == ["end_before_start"]


def _fields(project) -> dict:
    return {f.attname: getattr(project, f.attname) for f in Project._meta.concrete_fields if f.attname != "id"}


# --- beneficiaries_plausible ----------------------------------------------------------------------------


def test_beneficiaries_plausible_is_a_warning(world):
    assert result_of(world.project_a, "beneficiaries_plausible").passed
    Project.objects.filter(pk=world.project_b.pk).update(beneficiary_count=5_001)
    world.project_b.refresh_from_db()
    result = result_of(world.project_b, "beneficiaries_plausible")
    assert not result.passed and not result.blocking and result.severity == "warning"
    assert result.facts["limit"] == "max_sponsorship"
    assert result.facts["max_count"] == 5_000 and result.facts["beneficiary_count"] == 5_001
    assert "5001" in result.message_en


def test_beneficiaries_by_group(world):
    Project.objects.filter(pk=world.project_a.pk).update(
        beneficiary_group=BeneficiaryGroup.ORPHANS, beneficiary_count=25_000
    )
    world.project_a.refresh_from_db()
    result = result_of(world.project_a, "beneficiaries_plausible")
    assert not result.passed and result.facts["limit"] == "max_orphans"
    assert "الأيتام" in result.message_ar
    settings = settings_with("beneficiaries_plausible", thresholds={"max_orphans": 30_000})
    assert result_of(world.project_a, "beneficiaries_plausible", settings=settings).passed
    settings = settings_with("beneficiaries_plausible", thresholds={"min_count": 30_000, "max_orphans": 40_000})
    assert result_of(world.project_a, "beneficiaries_plausible", settings=settings).facts["min_count"] == 30_000
    assert not result_of(world.project_a, "beneficiaries_plausible", settings=settings).passed


# --- external_partner_known -----------------------------------------------------------------------------


def test_partner_check_asks_the_partners_app(world):
    result = result_of(world.project_a, "external_partner_known")
    assert result.passed and result.severity == "blocking"  # World accredits its partner by both ministries
    assert result.facts["source"] == "partners" and result.facts["accredited"] is True
    world.partner.accreditations.filter(authority="MOSA").delete()
    result = result_of(world.project_a, "external_partner_known")
    assert result.blocking and "Ministry of Social Affairs" in result.message_en
    assert "وزارة الشؤون الاجتماعية" in result.message_ar


def test_partner_check_fails_for_a_missing_or_inactive_partner(world):
    assert result_of(world.project_b, "external_partner_known").blocking
    assert result_of(world.project_b, "external_partner_known").facts == {"external": True, "partner": None}
    world.partner.is_active = False
    world.partner.save()
    world.project_a.refresh_from_db()
    result = result_of(world.project_a, "external_partner_known")
    assert result.blocking and result.facts["partner_active"] is False


def test_partner_check_consumes_the_accreditation_interface(world, monkeypatch):
    answers = {}

    def partner_accreditation_status(partner, on_date, country, project_model):
        answers["asked"] = (partner.pk, on_date, country, project_model)
        return answers["status"]

    fake_interfaces(monkeypatch, partner_accreditation_status=partner_accreditation_status)
    answers["status"] = {"accredited": True, "suspended": False, "facts": {"id": 7, "valid_until": "2028-01-01"}}
    result = result_of(world.project_a, "external_partner_known")
    assert result.passed and result.severity == "blocking"
    assert answers["asked"] == (world.partner.pk, TODAY, "SD", "construction_external")
    assert result.facts["source"] == "partners" and result.facts["accreditation_id"] == 7

    answers["status"] = SimpleNamespace(
        accredited=True, suspended=True, reason_ar="قرار الإيقاف ٣", reason_en="Decision 3"
    )
    result = result_of(world.project_a, "external_partner_known")
    assert result.blocking and result.facts["suspended"] is True
    assert "suspended" in result.message_en and "Decision 3" in result.message_en
    assert "موقوف التعامل معها" in result.message_ar

    answers["status"] = {"accredited": False, "suspended": False}
    result = result_of(world.project_a, "external_partner_known")
    assert result.blocking and "not accredited" in result.message_en


# --- the checks that wait for other apps ----------------------------------------------------------------


@pytest.mark.parametrize("code", UNAVAILABLE)
def test_checks_not_available_yet_warn_and_never_pass(world, code):
    stage = "nightly" if code == "reports_not_overdue" else "approval"
    # Even when the ministry makes the check blocking: a check that cannot run warns, it does not block.
    result = result_of(world.project_a, code, stage=stage, settings=settings_with(code, severity="blocking"))
    assert result.passed is False
    assert result.blocking is False and result.severity == "warning"
    assert result.available is False
    assert result.facts["source"] == "unavailable"
    assert result.facts["interface"] == checks.INTERFACES[code]
    assert result.message_ar and result.message_en and result.message_ar != result.message_en


def test_budget_present_with_the_finance_interface(world, monkeypatch):
    summary = {}
    fake_interfaces(monkeypatch, project_budget_summary=lambda project: summary.get("value"))
    result = result_of(world.project_a, "budget_present")
    assert result.blocking and result.facts == {"budget": False, "min_lines": 1}
    summary["value"] = {"total_minor": 12_500_000, "currency": "KWD", "lines": 0}
    assert result_of(world.project_a, "budget_present").blocking
    summary["value"] = {"total_minor": 12_500_000, "currency": "KWD", "lines": 4}
    result = result_of(world.project_a, "budget_present")
    assert result.passed and result.facts["total_minor"] == 12_500_000 and result.facts["lines"] == 4
    assert not result_of(
        world.project_a, "budget_present", settings=settings_with("budget_present", thresholds={"min_lines": 5})
    ).passed


def test_admin_share_with_the_finance_interface(world, monkeypatch):
    share = {}
    fake_interfaces(monkeypatch, administrative_share=lambda project: share.get("value"))
    assert result_of(world.project_a, "admin_share_within_licence").blocking  # nothing to compute it from
    share["value"] = {"share_percent": Decimal("9.5"), "licensed_percent": Decimal("10")}
    result = result_of(world.project_a, "admin_share_within_licence")
    assert result.passed
    assert result.facts == {"share_percent": "9.5", "licensed_percent": "10", "tolerance_points": 0}
    share["value"] = {"share_percent": "12.25", "licensed_percent": "10"}
    result = result_of(world.project_a, "admin_share_within_licence")
    assert result.blocking and "12.25" in result.message_en and "12.25٪" in result.message_ar
    settings = settings_with("admin_share_within_licence", thresholds={"tolerance_points": 3})
    assert result_of(world.project_a, "admin_share_within_licence", settings=settings).passed
    share["value"] = {"share_percent": "5", "licensed_percent": None}
    assert "No licensed" in result_of(world.project_a, "admin_share_within_licence").message_en


def test_overlaps_with_the_coordination_interface(world, monkeypatch):
    flags = []
    fake_interfaces(monkeypatch, undecided_overlaps=lambda project: flags)
    assert result_of(world.project_a, "no_undecided_overlap").passed
    flags.extend(
        [{"flag": 3, "level": "likely_duplicate", "other_project": "secret"}, {"flag": 4, "level": "possible_overlap"}]
    )
    result = result_of(world.project_a, "no_undecided_overlap")
    assert result.blocking
    assert result.facts == {"undecided": 2, "flags": [3, 4], "levels": ["likely_duplicate", "possible_overlap"]}
    assert "secret" not in str(result.facts)  # nothing of the other charity's project is kept


def test_overdue_reports_with_the_reports_interface(world, monkeypatch):
    due = [
        {"period": "2026-Q3", "due_date": dt.date(2026, 10, 31)},
        {"period": "2026-Q4", "due_date": dt.date(2026, 11, 20)},
    ]
    fake_interfaces(monkeypatch, reports_due=lambda project, on_date: due)
    result = result_of(world.project_a, "reports_not_overdue", stage="nightly")
    assert not result.passed and result.severity == "warning"
    assert result.facts["overdue"] == [{"period": "2026-Q3", "due_date": "2026-10-31", "days_late": 29}]
    settings = settings_with("reports_not_overdue", thresholds={"grace_days": 30})
    assert result_of(world.project_a, "reports_not_overdue", stage="nightly", settings=settings).passed


def test_documents_with_the_documents_interface(world, monkeypatch):
    missing = [{"kind": "site_plan", "label_ar": "مخطط الموقع", "label_en": "Site plan"}, "partner_agreement"]
    fake_interfaces(monkeypatch, missing_project_documents=lambda project: missing)
    result = result_of(world.project_a, "documents_present")
    assert result.blocking
    assert result.facts["missing"] == ["site_plan", "partner_agreement"]
    assert "Site plan" in result.message_en and "مخطط الموقع" in result.message_ar
    missing.clear()
    assert result_of(world.project_a, "documents_present").passed


def test_load_interface_is_none_for_an_app_not_installed():
    assert checks.load_interface("shafaf.partners.selectors.partner_accreditation_status", "shafaf.partners")
    assert checks.load_interface("shafaf.partners.selectors.partner_accreditation_status", "shafaf.absent") is None
    # Budgets are kept since issue 6: the budget checks run for real (shafaf/finance/tests/test_budgets.py).
    assert checks.load_interface("shafaf.finance.selectors.administrative_share", "shafaf.finance") is not None
    # Project documents are kept since 0005_phases: the documents_present check runs for real.
    assert checks.load_interface("shafaf.projects.selectors.missing_project_documents") is not None
    assert checks.load_interface("shafaf.projects.selectors.projects_visible_to") is not None


# --- the engine -----------------------------------------------------------------------------------------


def test_stages_choose_the_checks(world):
    codes = {
        stage: [r.code for r in engine.evaluate(world.project_a, stage=stage, today=TODAY)]
        for stage in ("submission", "approval", "nightly")
    }
    assert codes["submission"] == [
        "required_fields",
        "documents_present",
        "dates_coherent",
        "budget_present",
        "admin_share_within_licence",
        "external_partner_known",
        "objectives_linked",
        "beneficiaries_plausible",
    ]
    assert "no_undecided_overlap" in codes["approval"] and "no_undecided_overlap" not in codes["submission"]
    assert "reports_not_overdue" in codes["nightly"] and "reports_not_overdue" not in codes["approval"]
    assert "budget_present" not in codes["nightly"]
    with pytest.raises(ValueError):
        engine.evaluate(world.project_a, stage="whenever")


def test_disabled_checks_do_not_run_and_severity_overrides_apply(world):
    results = engine.evaluate(
        world.project_b, stage="approval", settings=settings_with("required_fields", enabled=False)
    )
    assert "required_fields" not in [r.code for r in results]
    settings = settings_with("required_fields", severity="warning")
    result = result_of(world.project_b, "required_fields", settings=settings)
    assert not result.passed and not result.blocking and result.severity == "warning"
    settings = settings_with("beneficiaries_plausible", severity="blocking", thresholds={"max_families": 10})
    assert result_of(world.project_a, "beneficiaries_plausible", settings=settings).blocking


def test_blocking_failures_lists_every_failing_blocking_check(world):
    results = engine.evaluate(world.project_b, stage="approval", today=TODAY)
    assert [r.code for r in engine.blocking_failures(results)] == [
        "required_fields",
        "documents_present",
        "budget_present",
        "admin_share_within_licence",
        "external_partner_known",
    ]
    assert [
        r.code for r in engine.blocking_failures(engine.evaluate(world.project_a, stage="approval", today=TODAY))
    ] == ["documents_present", "budget_present", "admin_share_within_licence"]
    attach_required_documents(world.project_a, world.najat)
    budget(world, world.project_a)
    assert engine.blocking_failures(engine.evaluate(world.project_a, stage="approval", today=TODAY)) == []


def test_evaluate_reads_the_ministry_settings_and_writes_nothing(world):
    from shafaf.projects.rulebook.models import RuleSetting

    RuleSetting.objects.create(code="required_fields", enabled=True, severity="warning", thresholds={"gone": 1})
    events = AuditEvent.objects.count()
    (result,) = [r for r in engine.evaluate(world.project_b, stage="approval") if r.code == "required_fields"]
    assert result.severity == "warning" and not result.blocking
    assert RulebookRun.objects.count() == 0 and AuditEvent.objects.count() == events


def test_a_check_that_raises_fails_with_its_severity(world, monkeypatch):
    def broken(project, ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(checks.REGISTRY, "dates_coherent", replace(checks.REGISTRY["dates_coherent"], function=broken))
    result = result_of(world.project_a, "dates_coherent")
    assert result.blocking and result.facts == {"error": "RuntimeError"}
    assert [r.code for r in engine.evaluate(world.project_a, stage="approval")][-1] == "beneficiaries_plausible"


def test_results_speak_the_active_language(world):
    result = result_of(world.project_b, "required_fields")
    with translation.override("en"):
        assert result.message == result.message_en
    with translation.override("ar"):
        assert result.message == result.message_ar
    assert result.title and result.state == "blocking"


def test_facts_are_plain_json(world):
    import json

    for result in engine.evaluate(world.project_a, stage="submission", today=TODAY):
        assert json.loads(json.dumps(result.facts)) == result.facts
        assert all(type(v) in (str, int, bool, list, dict, type(None)) for v in result.facts.values()), result.facts


def test_every_check_is_registered_with_bilingual_texts_and_valid_defaults():
    assert len(checks.REGISTRY) >= 9
    for code, check in checks.REGISTRY.items():
        assert check.severity in ("blocking", "warning") and check.stages
        assert str(check.title) and str(check.description)
        cleaned, errors = checks.clean_thresholds(check, check.default_thresholds())
        assert errors == {} and cleaned == check.default_thresholds(), code


def test_a_partner_organisation_that_is_not_a_partner_fails(world):
    charity_as_partner = OrganizationFactory(kind=OrganizationKind.CHARITY)
    Project.objects.filter(pk=world.project_b.pk).update(implementing_partner=charity_as_partner)
    world.project_b.refresh_from_db()
    result = result_of(world.project_b, "external_partner_known")
    assert result.blocking and result.facts["partner_kind"] == "charity"
