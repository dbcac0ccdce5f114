"""rulebook_run (stores, audits, joins the caller's transaction), rule_setting_update (validated, audited),
the batch run behind the nightly task and `manage.py run_rulebook`."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.projects.models import Project
from shafaf.projects.rulebook import selectors, services, tasks
from shafaf.projects.rulebook.models import CheckResultRecord, RulebookRun, RuleSetting
from tests.factories import budget

pytestmark = pytest.mark.django_db


def _events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("seq")


# --- rulebook_run ---------------------------------------------------------------------------------------


def test_rulebook_run_stores_the_run_its_results_and_one_audit_event(world):
    before = AuditEvent.objects.count()
    results = services.rulebook_run(actor=world.reviewer, project=world.project_b, stage="approval")

    run = results.run
    assert run.project == world.project_b and run.stage == "approval" and run.actor == world.reviewer
    assert run.passed is False and results.passed is False
    # No implementing partner (required_fields, external_partner_known), no documents (documents_present), no
    # budget (budget_present, admin_share_within_licence).
    assert run.blocking_failures == 5
    assert run.warnings == len([r for r in results if not r.passed and not r.blocking])
    stored = list(run.results.order_by("position"))
    assert [r.code for r in stored] == [r.code for r in results]
    for record, result in zip(stored, results, strict=True):
        assert (record.severity, record.passed, record.blocking) == (result.severity, result.passed, result.blocking)
        assert (record.message_ar, record.message_en, record.facts) == (
            result.message_ar,
            result.message_en,
            result.facts,
        )

    assert AuditEvent.objects.count() == before + 1
    event = _events("project.rulebook_run").get()
    assert (event.subject_type, event.subject_id) == ("projects.project", str(world.project_b.pk))
    assert event.organization_id == world.charity_b.pk  # in charity B's trail
    assert event.actor == world.reviewer
    assert event.changes["stage"] == [None, "approval"]
    assert event.changes["passed"] == [None, False]
    assert event.changes["rulebook_run"] == [None, run.pk]
    assert event.changes["failed_blocking"] == [
        None,
        [
            "required_fields",
            "documents_present",
            "budget_present",
            "admin_share_within_licence",
            "external_partner_known",
        ],
    ]
    assert "external_partner_known" not in event.changes["failed_warning"][1]
    # Coordination answers (shafaf.coordination): no overlap awaits a decision, so the check passes.
    assert "no_undecided_overlap" not in event.changes["failed_warning"][1]


def test_a_run_without_blocking_failure_passes(world):
    budget(world, world.project_a)
    results = services.rulebook_run(actor=None, project=world.project_a, stage="nightly")
    assert results.passed and results.run.passed and results.run.blocking_failures == 0
    assert results.run.actor is None
    assert services.blocking_failures(results) == []
    assert _events("project.rulebook_run").get().actor_username == ""


def test_every_result_has_the_promised_attributes(world):
    for result in services.rulebook_run(actor=world.najat, project=world.project_a, stage="submission"):
        assert result.code and result.severity in ("blocking", "warning")
        assert isinstance(result.passed, bool) and isinstance(result.blocking, bool)
        assert result.blocking == (not result.passed and result.severity == "blocking")
        assert result.message in (result.message_ar, result.message_en)
        assert isinstance(result.facts, dict)


def test_an_unknown_stage_is_refused(world):
    with pytest.raises(DomainError):
        services.rulebook_run(actor=None, project=world.project_a, stage="tomorrow")
    assert not RulebookRun.objects.exists()


def test_the_run_joins_the_callers_transaction(world):
    """Documented behaviour: a caller that rolls back takes the run (and its audit event) with it."""
    events = AuditEvent.objects.count()
    with transaction.atomic():
        services.rulebook_run(actor=world.reviewer, project=world.project_a, stage="approval")
        assert RulebookRun.objects.count() == 1
        transaction.set_rollback(True)
    assert RulebookRun.objects.count() == 0 and CheckResultRecord.objects.count() == 0
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_the_run_works_outside_any_transaction(world):
    results = services.rulebook_run(actor=world.reviewer, project=world.project_a, stage="approval")
    assert RulebookRun.objects.get() == results.run
    assert _events("project.rulebook_run").count() == 1


def test_latest_run(world):
    assert selectors.latest_run(world.project_a) is None
    services.rulebook_run(actor=None, project=world.project_a, stage="nightly")
    second = services.rulebook_run(actor=world.reviewer, project=world.project_a, stage="approval").run
    services.rulebook_run(actor=None, project=world.project_b, stage="nightly")
    latest = selectors.latest_run(world.project_a)
    assert latest == second
    assert next(r.code for r in latest.results.all()) == "required_fields"


# --- rule_setting_update --------------------------------------------------------------------------------


def test_the_ministry_admin_changes_a_check_and_the_change_is_audited(world):
    setting = services.rule_setting_update(
        actor=world.ministry_admin,
        code="dates_coherent",
        severity="warning",
        thresholds={"max_duration_months": 36},
        reason="Circular 12/2026",
    )
    assert setting.severity == "warning" and setting.customised
    assert setting.thresholds == {"start_grace_days": 0, "max_duration_months": 36}  # the other one kept
    row = RuleSetting.objects.get(code="dates_coherent")
    assert row.updated_by == world.ministry_admin and row.thresholds["max_duration_months"] == 36
    event = _events("rulebook.setting_update").get()
    assert event.changes == {"severity": ["blocking", "warning"], "thresholds.max_duration_months": [60, 36]}
    assert event.reason == "Circular 12/2026"
    assert (event.subject_type, event.subject_id) == ("projects.rulesetting", str(row.pk))
    assert event.actor_role == "ministry_admin"

    # The new setting is the one the engine applies.
    long = Project.objects.filter(pk=world.project_a.pk)
    long.update(planned_end=dt.date(2030, 12, 31))
    results = services.rulebook_run(actor=None, project=long.get(), stage="nightly")
    (dates,) = [r for r in results if r.code == "dates_coherent"]
    assert not dates.passed and dates.severity == "warning" and dates.facts["max_duration_months"] == 36


def test_an_unchanged_setting_writes_nothing(world):
    services.rule_setting_update(actor=world.ministry_admin, code="required_fields", enabled=True, severity="blocking")
    assert not RuleSetting.objects.exists() and not _events("rulebook.setting_update").exists()


def test_disabling_a_check(world):
    services.rule_setting_update(actor=world.ministry_admin, code="required_fields", enabled=False)
    results = services.rulebook_run(actor=None, project=world.project_b, stage="approval")
    assert "required_fields" not in [r.code for r in results]
    assert _events("rulebook.setting_update").get().changes == {"enabled": [True, False]}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"thresholds": {"max_duration_months": 0}}, "thresholds.max_duration_months"),
        ({"thresholds": {"max_duration_months": "36"}}, "thresholds.max_duration_months"),
        ({"thresholds": {"max_duration_months": 36.5}}, "thresholds.max_duration_months"),
        ({"thresholds": {"max_duration_months": True}}, "thresholds.max_duration_months"),
        ({"thresholds": {"start_grace_days": -1}}, "thresholds.start_grace_days"),
        ({"thresholds": {"start_grace_days": 10**9}}, "thresholds.start_grace_days"),
        ({"thresholds": {"speed_of_light": 3}}, "thresholds.speed_of_light"),
        ({"thresholds": ["not", "an", "object"]}, "thresholds"),
        ({"severity": "fatal"}, "severity"),
        ({"enabled": "yes"}, "enabled"),
    ],
)
def test_bad_settings_are_refused_with_field_errors_and_nothing_saved(world, changes, field):
    with pytest.raises(DomainError) as refused:
        services.rule_setting_update(actor=world.ministry_admin, code="dates_coherent", **changes)
    assert refused.value.code == "invalid"
    assert field in refused.value.fields
    assert not RuleSetting.objects.exists() and not _events("rulebook.setting_update").exists()


def test_threshold_rules_across_fields(world):
    with pytest.raises(DomainError) as refused:
        services.rule_setting_update(
            actor=world.ministry_admin, code="beneficiaries_plausible", thresholds={"min_count": 100, "max_orphans": 50}
        )
    assert set(refused.value.fields) == {"thresholds.max_orphans"}
    with pytest.raises(DomainError) as refused:
        services.rule_setting_update(
            actor=world.ministry_admin, code="required_fields", thresholds={"require_title_en": 1}
        )
    assert "thresholds.require_title_en" in refused.value.fields
    assert not RuleSetting.objects.exists()


def test_only_the_ministry_admin_changes_the_rulebook(world):
    for user in (world.reviewer, world.najat, world.auditor, world.donor):
        with pytest.raises(NotAllowed):
            services.rule_setting_update(actor=user, code="dates_coherent", severity="warning")
    with pytest.raises(DomainError) as unknown:
        services.rule_setting_update(actor=world.ministry_admin, code="no_such_check", severity="warning")
    assert unknown.value.status == 404
    assert not RuleSetting.objects.exists()


def test_settings_fall_back_to_the_defaults(world):
    settings = selectors.effective_settings()
    assert not any(s.customised for s in settings.values())
    assert settings["dates_coherent"].thresholds == {"start_grace_days": 0, "max_duration_months": 60}
    RuleSetting.objects.create(
        code="dates_coherent", severity="warning", thresholds={"max_duration_months": 24, "retired": 5}
    )
    setting = selectors.effective_setting("dates_coherent")
    assert setting.customised and setting.severity == "warning"
    assert setting.thresholds == {"start_grace_days": 0, "max_duration_months": 24}


# --- the nightly run ------------------------------------------------------------------------------------


def _move(project, status: str):
    """Puts a project in a state directly (a licensed state with the licence it needs)."""
    licence = {"licence_number": f"T-{project.pk}", "licence_date": dt.date(2026, 1, 1)}
    licensed = status in ("approved", "in_execution", "completed", "closed")
    Project.objects.filter(pk=project.pk).update(status=status, **(licence if licensed else {}))


def test_the_nightly_task_checks_the_projects_in_progress(world):
    budget(world, world.project_a)
    _move(world.project_a, "in_execution")
    _move(world.project_b, "submitted")
    result = tasks.rulebook_nightly.enqueue()
    assert result.return_value == {
        "projects": 2,
        "passed": 1,
        "with_blocking_failures": 1,
        "with_warnings": 0,
        "seconds": result.return_value["seconds"],
        "projects_per_second": result.return_value["projects_per_second"],
    }
    assert set(RulebookRun.objects.values_list("project_id", "stage")) == {
        (world.project_a.pk, "nightly"),
        (world.project_b.pk, "nightly"),
    }
    assert RulebookRun.objects.filter(actor__isnull=False).count() == 0


def test_drafts_and_closed_projects_are_not_checked_at_night(world):
    _move(world.project_b, "closed")
    assert tasks.rulebook_nightly.enqueue().return_value["projects"] == 0
    assert not RulebookRun.objects.exists()


def _crowd(world, count: int, status: str = "under_review") -> list[int]:
    template = world.project_a
    fields = {f.attname: getattr(template, f.attname) for f in Project._meta.concrete_fields}
    fields.pop("id")
    projects = [Project(**{**fields, "reference": f"PRJ-T-{n:05d}", "status": status}) for n in range(count)]
    return [p.pk for p in Project.objects.bulk_create(projects)]


def test_the_command_shows_progress_and_its_speed(world):
    _crowd(world, 150)
    out = io.StringIO()
    call_command("run_rulebook", stdout=out)
    text = out.getvalue()
    assert "stage nightly" in text
    assert "  100/150 projects" in text and "  150/150 projects" in text
    assert "Checked 150 projects in " in text and "projects/s)" in text
    assert "150 with blocking failures" in text  # no location: required_fields fails
    assert RulebookRun.objects.filter(stage="nightly").count() == 150
    assert AuditEvent.objects.filter(action="project.rulebook_run").count() == 150


def test_the_command_for_one_project_or_every_project(world):
    out = io.StringIO()
    call_command("run_rulebook", "--project", str(world.project_a.pk), "--stage", "approval", stdout=out)
    assert "Checked 1 projects" in out.getvalue()
    assert RulebookRun.objects.get().stage == "approval"
    call_command("run_rulebook", "--all", stdout=io.StringIO())
    assert RulebookRun.objects.filter(stage="nightly").count() == Project.objects.count()
    with pytest.raises(CommandError, match="No project with the id 999999"):
        call_command("run_rulebook", "--project", "999999", stdout=io.StringIO())
    quiet = io.StringIO()
    call_command("run_rulebook", "--all", "-v0", stdout=quiet)
    assert quiet.getvalue() == ""
