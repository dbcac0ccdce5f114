"""The accreditation gate: what it says about a partner on a date, and every place in the projects' lifecycle
where it refuses (submission and approval, pages and API), in Arabic and English."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from shafaf.accounts.choices import Authority
from shafaf.core.exceptions import DomainError
from shafaf.partners import gate
from shafaf.partners.models import Accreditation, Screening, ScreeningHit
from shafaf.projects import services as project_services
from shafaf.projects.models import Project
from tests.factories import attach_required_documents, screening_hit

TODAY = dt.date(2027, 3, 1)


def status(world, **scope):
    scope = {"on_date": TODAY, "country": "SD", "project_model": "construction_external", **scope}
    return gate.partner_gate_status(world.partner, **scope)


def accreditation(world, authority: str) -> Accreditation:
    return Accreditation.objects.get(partner=world.partner, authority=authority)


# --- the status ------------------------------------------------------------------------------------------------


def test_both_ministries_active_valid_and_in_scope_is_accredited(world):
    answer = status(world)
    assert answer.accredited and answer.allowed and not answer.problems


def test_a_missing_ministry_is_named_in_both_languages(world):
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOSA).delete()
    answer = status(world)
    assert not answer.accredited and [p.code for p in answer.problems] == ["missing_accreditation"]
    assert "Ministry of Social Affairs" in answer.reason_en
    assert "وزارة الشؤون الاجتماعية" in answer.reason_ar
    assert "Foreign Affairs" not in answer.reason_en


def test_a_lapsed_accreditation_says_when_it_lapsed(world):
    Accreditation.objects.filter(pk=accreditation(world, Authority.MOFA).pk).update(valid_until=dt.date(2027, 2, 28))
    answer = status(world)
    assert [p.code for p in answer.problems] == ["lapsed"]
    assert "2027-02-28" in answer.reason_en and "2027-02-28" in answer.reason_ar
    assert status(world, on_date=dt.date(2027, 2, 28)).accredited  # still valid on its last day


def test_an_accreditation_not_yet_valid(world):
    Accreditation.objects.filter(pk=accreditation(world, Authority.MOFA).pk).update(valid_from=dt.date(2027, 6, 1))
    assert [p.code for p in status(world).problems] == ["not_yet_valid"]


def test_scope_by_country_and_project_model(world):
    Accreditation.objects.filter(pk=accreditation(world, Authority.MOSA).pk).update(
        countries=["YE", "SD"], project_models=["construction_external"]
    )
    assert status(world).accredited
    assert [p.code for p in status(world, country="JO").problems] == ["out_of_scope"]
    assert [p.code for p in status(world, project_model="sponsorship_external").problems] == ["out_of_scope"]


def test_suspended_and_revoked(world):
    mofa = accreditation(world, Authority.MOFA)
    Accreditation.objects.filter(pk=mofa.pk).update(
        status="suspended", suspended_on=dt.date(2027, 1, 15), status_reason="Audit findings"
    )
    answer = status(world)
    assert answer.suspended and not answer.accredited
    assert [row.pk for row in answer.suspensions] == [mofa.pk]
    assert "suspended" in answer.reason_en and "Audit findings" in answer.reason_en
    Accreditation.objects.filter(pk=accreditation(world, Authority.MOSA).pk).update(status="revoked")
    answer = status(world)
    assert not answer.suspended  # a revocation is worse than a suspension: no settlement
    assert sorted(p.code for p in answer.problems) == ["revoked", "suspended"]


def test_an_open_or_confirmed_hit_blocks_and_a_cleared_one_does_not(world):
    hit = screening_hit(world)
    answer = status(world)
    assert answer.accredited and answer.screening_blocked and not answer.allowed
    assert "QDe.999" in answer.reason_en and "QDe.999" in answer.reason_ar
    ScreeningHit.objects.filter(pk=hit.pk).update(status="confirmed")
    assert not status(world).allowed
    ScreeningHit.objects.filter(pk=hit.pk).update(status="cleared", decision_reason="Another organisation.")
    assert status(world).allowed


def test_the_rulebook_interface(world):
    answer = gate.partner_accreditation_status(world.partner, TODAY, "SD", "construction_external")
    assert answer["accredited"] is True and answer["suspended"] is False
    screening_hit(world)
    answer = gate.partner_accreditation_status(world.partner, TODAY, "SD", "construction_external")
    assert answer["accredited"] is False and "QDe.999" in answer["reason_en"]


def test_the_gate_refuses_with_the_reasons_in_the_users_language(world):
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOFA).delete()
    with translation.override("en"), pytest.raises(gate.PartnerRefused) as refused:
        gate.partner_gate(world.partner, on_date=TODAY)
    assert refused.value.code == "partner_not_accredited" and refused.value.status == 409
    assert "Ministry of Foreign Affairs" in refused.value.fields["partner"][0]
    with translation.override("ar"), pytest.raises(gate.PartnerRefused) as refused:
        gate.partner_gate(world.partner, on_date=TODAY)
    assert "وزارة الخارجية" in refused.value.fields["partner"][0]


# --- the lifecycle ---------------------------------------------------------------------------------------------


def submit(world, project=None):
    project = project or world.project_a
    attach_required_documents(project, world.najat)
    return project_services.project_transition(actor=world.najat, project=project, action="submit")


def test_submission_is_refused_without_both_accreditations(world):
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOSA).delete()
    with pytest.raises(gate.PartnerRefused) as refused:
        submit(world)
    assert refused.value.code == "partner_not_accredited"
    assert Project.objects.get(pk=world.project_a.pk).status == "draft"


def test_submission_screens_the_partner_and_its_officers(world):
    from shafaf.partners.models import Officer

    officer = Officer.objects.create(partner=world.partner, role="head", name_en="Sami Haddad", nationality="SD")
    project = submit(world)
    assert project.status == "submitted"
    screenings = Screening.objects.filter(partner=world.partner, trigger="submission", project=project)
    assert {screening.officer_id for screening in screenings} == {None, officer.pk}


def test_submission_is_refused_while_a_hit_is_open(world):
    screening_hit(world)
    with pytest.raises(gate.PartnerRefused) as refused:
        submit(world)
    assert refused.value.code == "partner_screening_hit"
    assert Project.objects.get(pk=world.project_a.pk).status == "draft"


def test_approval_is_refused_when_the_accreditation_lapsed_after_submission(world):
    project = submit(world)
    project = project_services.project_transition(actor=world.reviewer, project=project, action="start-review")
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOFA).update(
        status="revoked", status_reason="Withdrawn"
    )
    with pytest.raises(DomainError) as refused:
        project_services.project_transition(actor=world.reviewer, project=project, action="approve")
    assert refused.value.code == "partner_not_accredited"
    assert Project.objects.get(pk=project.pk).status == "under_review"


def test_a_project_without_a_partner_is_not_gated(world):
    Accreditation.objects.all().delete()
    project = world.project_a
    Project.objects.filter(pk=project.pk).update(implementing_partner=None, project_model="construction_internal")
    project.refresh_from_db()
    assert submit(world, project).status == "submitted"


def test_the_api_refuses_submission_in_the_error_format(world, login):
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOSA).delete()
    attach_required_documents(world.project_a, world.najat)
    client = login(world.najat)
    response = client.post(f"/api/v1/projects/{world.project_a.pk}/submit/", {}, content_type="application/json")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "partner_not_accredited"
    assert any("وزارة الشؤون الاجتماعية" in message for message in error["fields"]["partner"])  # the user's language
    world.najat.language = "en"
    world.najat.save(update_fields=["language"])
    error = client.post(f"/api/v1/projects/{world.project_a.pk}/submit/", {}, content_type="application/json").json()
    assert any("Ministry of Social Affairs" in message for message in error["error"]["fields"]["partner"])


def test_the_page_shows_the_refusal_in_arabic(world, login):
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOSA).delete()
    attach_required_documents(world.project_a, world.najat)
    response = login(world.najat).post(f"/projects/{world.project_a.pk}/submit/", {"reason": ""})
    assert response.status_code == 409
    text = response.content.decode()
    assert "لا يوجد اعتماد للشريك من وزارة الشؤون الاجتماعية" in text


def test_an_alert_is_raised_on_a_licensed_project_whose_partner_lapsed(world):
    from shafaf.projects.oversight.models import Alert
    from shafaf.projects.oversight.services import alerts_raise

    Project.objects.filter(pk=world.project_a.pk).update(
        status="in_execution", licence_number="LIC-2027-000001", licence_date=dt.date(2027, 1, 1)
    )
    summary = alerts_raise(project_ids=[world.project_a.pk])
    assert "partner_not_accredited" not in summary.unavailable
    assert not Alert.objects.filter(rule="partner_not_accredited").exists()
    Accreditation.objects.filter(partner=world.partner, authority=Authority.MOFA).update(
        valid_until=dt.date(2021, 1, 1), status="expired"
    )
    alerts_raise(project_ids=[world.project_a.pk])
    alert = Alert.objects.get(project=world.project_a, rule="partner_not_accredited")
    assert alert.severity == "critical" and "Ministry of Foreign Affairs" in alert.message_en


def test_pages_name_an_officers_nationality_in_the_page_language(world, login):
    from shafaf.partners.models import Officer

    officer = Officer.objects.create(partner=world.partner, role="head", name_en="Sami Haddad", nationality="SD")
    hit = screening_hit(world, officer=officer)
    client = login(world.reviewer)
    assert "السودان" in client.get(f"/partners/{world.partner.pk}/").content.decode()
    assert "السودان" in client.get(f"/screening/hits/{hit.pk}/").content.decode()
