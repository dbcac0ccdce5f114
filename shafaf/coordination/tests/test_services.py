"""Coordination's services: the online check on submission and on edits, the flags' lifecycle (open, update,
reopen, withdraw, internal), the ministry's decisions and their rules, the rulebook blocking approval until a
decision, the settings, and bad input that must never crash the check."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Q
from django.utils import translation

from shafaf.audit.models import AuditEvent
from shafaf.coordination import online, selectors, services
from shafaf.coordination.choices import CheckTrigger, Decision, FlagStatus
from shafaf.coordination.models import Flag, OverlapCheck, ProjectSignature
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.projects import services as project_services
from shafaf.projects.choices import ProjectStatus
from tests.factories import attach_required_documents, budget, make_project

from .app_helpers import ORPHANS, WELL_A, WELL_B, WELL_SITE_NEARBY, new_project, set_status, submit, well_pair

S = ProjectStatus


@pytest.fixture(autouse=True)
def fresh_index():
    online.reset_index()
    yield
    online.reset_index()


def flag_of(a, b) -> Flag:
    low, high = sorted((a.pk, b.pk))
    return Flag.objects.get(project_a_id=low, project_b_id=high)


def events(action: str, subject) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, subject_id=str(subject.pk)).order_by("seq"))


def review(world, project):
    return project_services.project_transition(actor=world.reviewer, project=project, action="start-review")


# --- the online check -----------------------------------------------------------------------------------------


def test_a_resubmission_by_another_charity_is_found_within_the_submission(world):
    a, b = well_pair(world)
    check = OverlapCheck.objects.filter(project=b).first()
    assert check is not None and check.trigger == CheckTrigger.SUBMISSION
    assert check.overlaps == 1 and check.internal == 0
    [result] = check.results
    assert set(result) == {"project", "reference", "charity", "internal", "score", "level", "reasons"}
    assert result["project"] == a.pk and result["reference"] == a.reference and result["charity"] == world.charity_a.pk
    assert result["level"] == "likely" and result["internal"] is False
    signals = [reason["signal"] for reason in result["reasons"]]
    assert "partner" in signals and "location" in signals
    weights = [abs(reason["weight"]) for reason in result["reasons"]]
    assert weights == sorted(weights, reverse=True)
    assert all(reason["text_en"] and reason["text_ar"] for reason in result["reasons"])
    assert check.duration_ms >= 0 and check.model_version.is_active

    flag = flag_of(a, b)
    assert (flag.project_a_id, flag.project_b_id) == (a.pk, b.pk)  # ordered by id
    assert flag.status == FlagStatus.OPEN and not flag.internal and flag.found_by == CheckTrigger.SUBMISSION
    assert flag.score == result["score"] and flag.reasons == result["reasons"]
    # Audited once for each charity involved, and the check itself.
    opened = events("coordination.flag_open", flag)
    assert {event.organization_id for event in opened} == {world.charity_a.pk, world.charity_b.pk}
    assert events("coordination.check", check)[0].organization_id == world.charity_b.pk
    # The first submission (A alone) found nothing.
    assert OverlapCheck.objects.get(project=a).results == []


def test_unrelated_projects_and_drafts_are_not_flagged(world):
    a = submit(world.najat, new_project(world.najat, world.charity_a, implementing_partner=world.partner))
    orphans = make_project(world.rahma, world.charity_b, **ORPHANS)
    submit(world.rahma, orphans)
    assert not Flag.objects.exists()
    # A draft of the same well is not compared (never flagged), while it is a draft.
    make_project(world.rahma, world.charity_b, locations=WELL_SITE_NEARBY, implementing_partner=world.partner, **WELL_B)
    check = services.coordination_check(actor=world.reviewer, project=a, trigger=CheckTrigger.MANUAL)
    assert check.results == [] and not Flag.objects.exists()


def test_a_draft_can_be_checked_as_a_preview_without_flags(world):
    a, b = well_pair(world, submit_b=False)
    check = services.coordination_check(actor=world.rahma, project=b, trigger=CheckTrigger.MANUAL)
    assert [r["project"] for r in check.results] == [a.pk]
    assert not Flag.objects.exists()


def test_the_same_charity_twice_is_an_internal_duplicate_that_blocks_nothing(world):
    a = submit(world.najat, new_project(world.najat, world.charity_a, implementing_partner=world.partner))
    twin = make_project(
        world.najat, world.charity_a, locations=WELL_SITE_NEARBY, implementing_partner=world.partner, **WELL_B
    )
    twin = submit(world.najat, twin)
    check = OverlapCheck.objects.filter(project=twin).first()
    assert check.overlaps == 0 and check.internal == 1 and check.results[0]["internal"] is True
    flag = flag_of(a, twin)
    assert flag.internal and flag.status == FlagStatus.OPEN
    assert selectors.undecided_overlaps(twin) == [] and selectors.undecided_overlaps(a) == []


def test_only_the_ministry_or_the_owner_runs_a_check(world):
    a, _b = well_pair(world)
    with pytest.raises(NotAllowed):
        services.coordination_check(actor=world.rahma, project=a, trigger=CheckTrigger.MANUAL)
    with pytest.raises(NotAllowed):
        services.coordination_check(actor=world.auditor, project=a, trigger=CheckTrigger.MANUAL)
    assert services.coordination_check(actor=world.najat, project=a, trigger=CheckTrigger.MANUAL).overlaps == 1
    with pytest.raises(DomainError):
        services.coordination_check(actor=world.reviewer, project=a, trigger="whenever")


def test_the_signature_is_written_only_when_it_changes(world):
    a, _b = well_pair(world)
    signature = ProjectSignature.objects.get(project=a)
    services.coordination_check(actor=world.reviewer, project=a, trigger=CheckTrigger.MANUAL)
    again = ProjectSignature.objects.get(project=a)
    assert again.updated_at == signature.updated_at and again.digest == signature.digest
    assert signature.record["ref"] == a.reference and signature.record["partner"] == world.partner.pk
    assert signature.record["status"] == S.SUBMITTED and "no_budget" in signature.record["notes"]
    review(world, a)  # a change of state is part of the signature
    assert ProjectSignature.objects.get(project=a).record["status"] == S.UNDER_REVIEW


def test_the_budget_is_compared_in_fils_of_kwd(world):
    from shafaf.coordination.signature import record_of

    project = new_project(world.najat, world.charity_a)
    budget(world, project)  # 10,500.000 KWD
    assert record_of(project)["budget_kwd"] == 10_500_000
    usd = new_project(world.najat, world.charity_a, currency="USD")
    budget(world, usd, [{"category": "programme", "name_ar": "بئر", "name_en": "Well", "amount": "1000.00"}])
    record = record_of(usd)  # no USD rate: not compared, and said so
    assert record["budget_kwd"] is None and "budget_no_rate" in record["notes"]


def test_an_edit_of_a_licensed_project_checks_it_again(world):
    a, b = well_pair(world)
    flag = flag_of(a, b)
    services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Two villages.")
    a = set_status(a, S.APPROVED)
    project_services.project_update(actor=world.najat, project=a, beneficiary_count=800)
    check = OverlapCheck.objects.filter(project=a).first()
    assert check.trigger == CheckTrigger.SCOPE_EDIT and check.results[0]["project"] == b.pk
    assert flag_of(a, b).status == FlagStatus.DECIDED  # still decided: it was likely already


def test_approval_is_refused_while_a_cross_charity_flag_is_open(world):
    a, b = well_pair(world, submit_b=False)
    budget(world, b)
    attach_required_documents(b, world.rahma)
    b = review(world, submit(world.rahma, b))
    flag = flag_of(a, b)
    assert selectors.undecided_overlaps(b) == [{"flag": flag.pk, "level": "likely_duplicate"}]
    with pytest.raises(DomainError) as refused:
        project_services.project_transition(actor=world.reviewer, project=b, action="approve")
    assert refused.value.code == "rulebook_blocked"
    assert any("overlap" in message.lower() or "تشابه" in message for message in refused.value.fields["rulebook"])
    services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Another village.")
    assert selectors.undecided_overlaps(b) == []
    b.refresh_from_db()
    approved = project_services.project_transition(actor=world.reviewer, project=b, action="approve")
    assert approved.status == S.APPROVED


# --- decisions ------------------------------------------------------------------------------------------------


def test_only_the_ministry_decides_and_only_once(world):
    a, b = well_pair(world)
    flag = flag_of(a, b)
    for user in (world.najat, world.rahma, world.auditor, world.donor):
        with pytest.raises(NotAllowed):
            services.flag_decide(actor=user, flag=flag, decision=Decision.DISTINCT, reason="no")
    services.flag_decide(actor=world.ministry_admin, flag=flag, decision=Decision.DISTINCT, reason="Two villages.")
    with pytest.raises(Conflict):
        services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="again")
    with pytest.raises(DomainError) as bad:
        services.flag_decide(actor=world.reviewer, flag=flag, decision="maybe")
    assert "decision" in bad.value.fields


def test_distinct_needs_a_reason(world):
    a, b = well_pair(world)
    flag = flag_of(a, b)
    with pytest.raises(DomainError) as refused:
        services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="  ")
    assert "reason" in refused.value.fields
    assert flag_of(a, b).status == FlagStatus.OPEN
    decided = services.flag_decide(
        actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Different villages, 40 km apart."
    )
    assert decided.status == FlagStatus.DECIDED and decided.decided_by == world.reviewer
    [for_a, for_b] = events("coordination.flag_decide", decided)
    assert {for_a.organization_id, for_b.organization_id} == {world.charity_a.pk, world.charity_b.pk}
    assert for_a.reason == "Different villages, 40 km apart."


def test_a_duplicate_under_review_is_rejected(world):
    a, b = well_pair(world)
    b = review(world, b)
    flag = flag_of(a, b)
    with pytest.raises(DomainError) as refused:
        services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DUPLICATE, duplicate_project=b)
    assert "reason" in refused.value.fields
    with pytest.raises(DomainError) as refused:
        services.flag_decide(
            actor=world.reviewer,
            flag=flag,
            decision=Decision.DUPLICATE,
            reason="Same wells",
            duplicate_project=world.project_b,
        )
    assert "duplicate_project" in refused.value.fields
    decided = services.flag_decide(
        actor=world.reviewer, flag=flag, decision=Decision.DUPLICATE, reason="Same wells", duplicate_project=b.pk
    )
    b.refresh_from_db()
    assert b.status == S.REJECTED
    assert decided.duplicate_project_id == b.pk and decided.status == FlagStatus.DECIDED
    assert b.reference in decided.decision_reason and decided.decision_reason.startswith("Same wells")
    assert b.transitions.filter(action="reject").exists()
    a.refresh_from_db()
    assert a.status == S.SUBMITTED


def test_a_submitted_duplicate_is_taken_into_review_and_rejected(world):
    a, b = well_pair(world)
    services.flag_decide(
        actor=world.reviewer, flag=flag_of(a, b), decision=Decision.DUPLICATE, reason="Same", duplicate_project=b
    )
    b.refresh_from_db()
    assert b.status == S.REJECTED
    assert list(b.transitions.values_list("action", flat=True))[-2:] == ["start-review", "reject"]


def test_a_licensed_duplicate_must_be_withdrawn_by_its_charity(world):
    a, b = well_pair(world)
    a = set_status(a, S.IN_EXECUTION)
    with translation.override("en"):
        decided = services.flag_decide(
            actor=world.reviewer, flag=flag_of(a, b), decision=Decision.DUPLICATE, reason="Same", duplicate_project=a
        )
    a.refresh_from_db()
    assert a.status == S.IN_EXECUTION  # the ministry cannot reject a licensed project
    assert a.reference in decided.decision_reason and "withdraw" in decided.decision_reason


def test_rejecting_the_duplicate_withdraws_its_other_open_flags(world):
    a, b = well_pair(world)
    # A third charity submits the same well again: it overlaps with both.
    charity_c = type(world.charity_a).objects.create(kind="charity", slug="c", name_ar="جمعية ج", name_en="C")
    from tests.factories import member

    admin_c = member("charity_admin", charity_c)
    c = submit(admin_c, new_project(admin_c, charity_c, implementing_partner=world.partner))
    assert Flag.objects.filter(status=FlagStatus.OPEN, internal=False).count() == 3
    services.flag_decide(
        actor=world.reviewer, flag=flag_of(b, c), decision=Decision.DUPLICATE, reason="Same", duplicate_project=c
    )
    assert flag_of(a, c).status == FlagStatus.WITHDRAWN
    assert flag_of(a, b).status == FlagStatus.OPEN
    assert events("coordination.flag_withdraw", flag_of(a, c))


def test_joint_funding_shares_and_double_counting(world):
    a, b = well_pair(world, submit_b=False)
    budget(world, a)  # 10,500.000 KWD
    budget(  # 6,000.000 KWD
        world, b, [{"category": "programme", "name_ar": "حفر", "name_en": "Drilling", "amount": "6000.000"}]
    )
    b = submit(world.rahma, b)
    flag = flag_of(a, b)
    with pytest.raises(DomainError) as bad:
        services.flag_decide(
            actor=world.reviewer, flag=flag, decision=Decision.JOINT, share_a_bp=6000, share_b_bp=3000, joint_total=1
        )
    assert "share_b_bp" in bad.value.fields
    with pytest.raises(DomainError) as bad:
        services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.JOINT, share_a_bp=5000, share_b_bp=5000)
    assert "joint_total" in bad.value.fields
    # 16,000 KWD shared 60/40: A's 10,500 exceeds its 9,600 -> the work would be counted twice.
    with pytest.raises(DomainError) as refused:
        services.flag_decide(
            actor=world.reviewer,
            flag=flag,
            decision=Decision.JOINT,
            share_a_bp=6000,
            share_b_bp=4000,
            joint_total=16_000_000,
        )
    message = str(refused.value.message)
    assert refused.value.code == "double_counted"
    assert a.reference in message and b.reference in message and "10,500" in message and "9,600" in message
    assert flag_of(a, b).status == FlagStatus.OPEN
    decided = services.flag_decide(
        actor=world.reviewer,
        flag=flag,
        decision=Decision.JOINT,
        share_a_bp=6200,
        share_b_bp=3800,
        joint_total=17_000_000,
        reason="Two phases of one programme.",
    )
    assert (decided.share_a_bp, decided.share_b_bp, decided.joint_total, decided.joint_currency) == (
        6200,
        3800,
        17_000_000,
        "KWD",
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == S.SUBMITTED and b.status == S.SUBMITTED  # both go ahead


def test_joint_funding_needs_both_budgets(world):
    a, b = well_pair(world)
    with pytest.raises(DomainError) as refused:
        services.flag_decide(
            actor=world.reviewer,
            flag=flag_of(a, b),
            decision=Decision.JOINT,
            share_a_bp=5000,
            share_b_bp=5000,
            joint_total=20_000_000,
        )
    assert "no budget" in str(refused.value.message)


# --- the flag's lifecycle -------------------------------------------------------------------------------------


def test_a_decided_flag_reopens_when_the_score_rises_from_possible_to_likely(world):
    a, b = well_pair(world)
    score = flag_of(a, b).score
    services.settings_update(actor=world.ministry_admin, likely_threshold=str(int(score) + 5))
    services.coordination_check(actor=world.reviewer, project=b, trigger=CheckTrigger.MANUAL)
    flag = flag_of(a, b)
    assert flag.level == "possible"
    services.flag_decide(actor=world.reviewer, flag=flag, decision=Decision.DISTINCT, reason="Neighbours.")
    services.coordination_check(actor=world.reviewer, project=b, trigger=CheckTrigger.MANUAL)
    assert flag_of(a, b).status == FlagStatus.DECIDED  # still possible: the decision stands

    services.settings_update(actor=world.ministry_admin, likely_threshold="12")
    services.coordination_check(actor=world.reviewer, project=b, trigger=CheckTrigger.MANUAL)
    flag = flag_of(a, b)
    assert flag.status == FlagStatus.OPEN and flag.level == "likely" and flag.decision == ""
    [event] = events("coordination.flag_reopen", flag)[:1]
    assert "possible" in event.reason and "likely" in event.reason and "distinct" in event.reason
    assert event.changes["previous_decision"][0]["decision"] == "distinct"
    assert selectors.undecided_overlaps(b)  # it blocks again


def test_an_open_flag_that_no_longer_reaches_possible_is_withdrawn(world):
    a, b = well_pair(world)
    score = flag_of(a, b).score
    services.settings_update(
        actor=world.ministry_admin, likely_threshold=str(int(score) + 20), possible_threshold=str(int(score) + 10)
    )
    check = services.coordination_check(actor=world.reviewer, project=a, trigger=CheckTrigger.MANUAL)
    assert check.results == []
    flag = flag_of(a, b)
    assert flag.status == FlagStatus.WITHDRAWN
    assert "no longer" in events("coordination.flag_withdraw", flag)[0].reason
    assert selectors.undecided_overlaps(b) == []
    # Found again (thresholds back): open again.
    services.settings_update(actor=world.ministry_admin, possible_threshold="6", likely_threshold="12")
    services.coordination_check(actor=world.reviewer, project=a, trigger=CheckTrigger.MANUAL)
    assert flag_of(a, b).status == FlagStatus.OPEN


def test_a_project_leaving_the_compared_states_withdraws_its_open_flags(world):
    a, b = well_pair(world)
    project_services.project_transition(actor=world.rahma, project=b, action="cancel", reason="Entered twice.")
    flag = flag_of(a, b)
    assert flag.status == FlagStatus.WITHDRAWN
    assert b.reference in events("coordination.flag_withdraw", flag)[0].reason
    # And it is not compared any more.
    check = services.coordination_check(actor=world.reviewer, project=a, trigger=CheckTrigger.MANUAL)
    assert check.results == []


def test_a_completed_project_is_compared_for_the_configured_days(world):
    a, b = well_pair(world, submit_b=False)
    from django.utils import timezone

    set_status(a, S.COMPLETED, status_changed_at=timezone.now() - dt.timedelta(days=100))
    submit(world.rahma, b)
    assert Flag.objects.filter(project_a=a, project_b=b).exists()
    services.settings_update(actor=world.ministry_admin, completed_within_days=30)
    check = services.coordination_check(actor=world.reviewer, project=b, trigger=CheckTrigger.MANUAL)
    assert check.results == []
    assert flag_of(a, b).status == FlagStatus.WITHDRAWN


# --- settings and the model -----------------------------------------------------------------------------------


def test_settings_are_the_ministry_administrators_and_checked(world):
    for user in (world.reviewer, world.najat, world.auditor):
        with pytest.raises(NotAllowed):
            services.settings_update(actor=user, likely_threshold="10")
    with pytest.raises(DomainError) as bad:
        services.settings_update(actor=world.ministry_admin, likely_threshold="5", possible_threshold="8")
    assert "possible_threshold" in bad.value.fields
    with pytest.raises(DomainError) as bad:
        services.settings_update(actor=world.ministry_admin, likely_threshold="abc", max_candidates=0)
    assert set(bad.value.fields) == {"likely_threshold", "max_candidates"}
    with pytest.raises(DomainError):
        services.settings_update(actor=world.ministry_admin, colour="red")
    settings = services.settings_update(actor=world.ministry_admin, likely_threshold="14.5", completed_within_days=90)
    assert str(settings.likely_threshold) == "14.50" and settings.completed_within_days == 90
    [event] = AuditEvent.objects.filter(action="coordination.settings_update")
    assert event.changes["likely_threshold"] == ["12.00", "14.50"] or event.changes["likely_threshold"][1] == "14.50"


def test_the_first_model_version_is_the_shipped_default(db):
    from shafaf.coordination.model import DEFAULT_PARAMS

    version = selectors.active_model()
    assert version.number == 1 and version.is_active and version.params == DEFAULT_PARAMS.to_dict()
    assert selectors.active_model().pk == version.pk


# --- bad input ------------------------------------------------------------------------------------------------

ZW = "\u200b\u200f\u2066"  # zero-width space, right-to-left mark, isolate


@pytest.mark.parametrize(
    "fields",
    [
        {"description_ar": "", "description_en": ""},
        {"title_en": "", "description_en": "", "description_ar": ""},
        {"title_ar": "", "description_ar": "", "title_en": "Well", "description_en": ""},
        {"description_ar": "حفر آبار " * 12_000, "description_en": "wells " * 20_000},
        {
            "title_ar": f"حفر{ZW} ١٠ آبار Al-Noor {ZW}village قرية النور",
            "description_en": f"Drill{ZW}ing\u00ad 10 wells",
        },
        # (a NUL never gets this far: Django's forms and serializers refuse it before the service)
        {"title_ar": "😀 🚰 ###", "description_ar": "\x01\x07\ufeff", "description_en": "ﷺ ﻻ ﷽"},
    ],
    ids=["no-descriptions", "arabic-title-only", "english-word-only", "100kb", "mixed-invisible", "symbols"],
)
def test_odd_projects_are_checked_soundly(world, fields):
    a = submit(world.najat, new_project(world.najat, world.charity_a, implementing_partner=world.partner))
    data = {**WELL_B, **fields}
    b = make_project(world.rahma, world.charity_b, locations=[], implementing_partner=world.partner, **data)
    b = submit(world.rahma, b)
    check = OverlapCheck.objects.filter(project=b).first()
    assert check is not None
    record = ProjectSignature.objects.get(project=b).record
    assert record["lat"] is None and record["lon"] is None  # no GPS: not compared, not invented
    for result in check.results:
        assert result["project"] == a.pk and result["level"] in ("likely", "possible")
        assert any(reason["signal"] == "location" and reason["weight"] == 0 for reason in result["reasons"])
    if max(len(fields.get(name, "")) for name in ("description_ar", "description_en")) > 20_000:
        assert "description_truncated" in record["notes"]


def test_a_huge_description_is_checked_quickly(world):
    a = submit(world.najat, new_project(world.najat, world.charity_a, implementing_partner=world.partner))
    b = make_project(
        world.rahma,
        world.charity_b,
        locations=WELL_SITE_NEARBY,
        implementing_partner=world.partner,
        **{**WELL_B, "description_ar": WELL_B["description_ar"] + " ماء" * 40_000},
    )
    submit(world.rahma, b)
    check = OverlapCheck.objects.filter(project=b).first()
    assert [r["project"] for r in check.results] == [a.pk]
    assert check.duration_ms < 5_000


def test_the_well_pair_matches_across_languages(world):
    """Charity A wrote in English only, charity B in Arabic only: still found, and said so."""
    a = new_project(world.najat, world.charity_a, implementing_partner=world.partner, title_ar="", description_ar="")
    submit(world.najat, a)
    b = make_project(
        world.rahma, world.charity_b, locations=WELL_SITE_NEARBY, implementing_partner=world.partner, **WELL_B
    )
    submit(world.rahma, b)
    flag = flag_of(a, b)
    assert flag.level in ("likely", "possible")
    assert WELL_A["title_en"]  # the English one


def test_undecided_overlaps_lists_only_open_cross_charity_flags(world):
    a, b = well_pair(world)
    flag = flag_of(a, b)
    assert selectors.undecided_overlaps(a) == [{"flag": flag.pk, "level": "likely_duplicate"}]
    Flag.objects.filter(pk=flag.pk).update(status=FlagStatus.WITHDRAWN)
    assert selectors.undecided_overlaps(a) == []
    assert not Flag.objects.filter(Q(project_a=world.project_a) | Q(project_b=world.project_a)).exists()


def test_a_budget_revision_is_compared_at_once(world):
    """The budget is a signal: revising an approved project's budget refreshes its signature and checks it again
    in the same request, not at the nightly scan."""
    a, _b = well_pair(world, submit_b=False)
    budget(world, a)  # 10,500.000 KWD
    a = set_status(a, S.APPROVED)
    checks_before = OverlapCheck.objects.filter(project=a).count()
    budget(
        world,
        a,
        [{"category": "programme", "name_ar": "حفر", "name_en": "Drilling", "amount": "12000.000"}],
        reason="A deeper well",
    )
    signature = ProjectSignature.objects.get(project=a)
    assert signature.record["budget_kwd"] == 12_000_000
    assert OverlapCheck.objects.filter(project=a).count() == checks_before + 1
    assert OverlapCheck.objects.filter(project=a).latest("id").trigger == CheckTrigger.SCOPE_EDIT


@pytest.mark.django_db(transaction=True)
def test_a_worker_loads_the_index_when_it_starts(world):
    """gunicorn's post_fork (config/gunicorn.conf.py) calls warm_up: the index is built in a background thread from
    the stored signatures, before any check asks for it."""
    a, b = well_pair(world)
    online.reset_index()
    assert online.process_index().index is None
    online.warm_up().join(timeout=60)
    index = online.process_index().index
    assert index is not None and a.pk in index and b.pk in index
