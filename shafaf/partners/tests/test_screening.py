"""Screening partners and officers, the reviewers' decisions, the gate, and the pages and API of the hits."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from shafaf.accounts.choices import OrganizationKind
from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.partners import gate, screening
from shafaf.partners.choices import HitStatus, ScreeningTrigger
from shafaf.partners.models import Officer, PartnerName, Screening, ScreeningHit
from shafaf.partners.screening import ScreeningInputError, hit_clear, hit_confirm, screen_partner
from shafaf.projects.models import Project
from tests.factories import OrganizationFactory, verified_login

from .test_screening_helpers import FULANI, HOPE, load_un, un_xml

pytestmark = pytest.mark.django_db
TODAY = dt.date(2027, 3, 1)


def _officer(partner, **values):
    defaults = {"role": "head", "name_en": "Khalid Abdullah Al-Fulani", "nationality": "SD"}
    return Officer.objects.create(partner=partner, **{**defaults, **values})


def _screen(world, **kwargs):
    return screen_partner(actor=world.accreditation_officer, partner=world.partner, trigger="registration", **kwargs)


def test_a_partner_and_each_active_officer_are_screened_with_all_their_names(world):
    version = load_un()
    PartnerName.objects.create(partner=world.partner, kind="acronym", name="HOPE-ORG")
    head = _officer(world.partner, name_ar="خالد عبدالله الفلاني", date_of_birth=dt.date(1970, 5, 1))
    _officer(world.partner, role="director", name_en="Someone Else Entirely", is_active=False)
    clean = _officer(world.partner, role="signatory", name_en="Ahmad Yousef Haddad", name_ar="أحمد يوسف حداد")
    screenings = _screen(world)
    assert [(s.officer_id) for s in screenings] == [None, head.pk, clean.pk]
    partner_row = screenings[0]
    assert [item["name"] for item in partner_row.names] == ["منظمة الأمل", "Hope Organisation", "HOPE-ORG"]
    assert partner_row.versions == [version.pk] and partner_row.alert and partner_row.hit_count == 1
    assert screenings[1].alert and not screenings[2].alert
    hits = ScreeningHit.objects.order_by(F("officer_id").asc(nulls_first=True))  # the same on both databases
    assert [(h.officer_id, h.entry.entry_id, h.status) for h in hits] == [
        (None, HOPE[0], HitStatus.OPEN),
        (head.pk, FULANI[0], HitStatus.OPEN),
    ]
    assert all(0 < h.score <= 1 and h.explanation_en and h.explanation_ar for h in hits)
    event = AuditEvent.objects.get(action="screening.run")
    assert sorted(event.changes["new_hits"]) == sorted(h.pk for h in hits)


def test_without_a_list_the_screening_is_kept_and_finds_nothing(world):
    screenings = _screen(world)
    assert len(screenings) == 1 and screenings[0].versions == [] and not screenings[0].alert
    assert not ScreeningHit.objects.exists()


def test_a_cleared_hit_is_remembered_for_its_version_and_asked_again_on_a_new_one(world):
    first = load_un()
    _screen(world)
    hit = ScreeningHit.objects.get()
    hit_clear(actor=world.reviewer, hit=hit, reason="Registered in another country, different founders.")
    _screen(world)  # the same version again
    assert ScreeningHit.objects.count() == 1
    hit.refresh_from_db()
    assert hit.status == HitStatus.CLEARED and hit.last_screening_id != hit.screening_id
    assert not gate.partner_gate_status(world.partner, on_date=TODAY).screening_blocked

    second = load_un(generated="2026-05-01T00:00:00Z")
    _screen(world)
    new = ScreeningHit.objects.get(version=second)
    assert new.status == HitStatus.OPEN and new.version != first
    hit.refresh_from_db()
    assert hit.status == HitStatus.CLEARED  # the old decision is kept, for the old version
    assert gate.partner_gate_status(world.partner, on_date=TODAY).screening_blocked


def test_confirming_blocks_the_partner_at_the_gate_and_clearing_unblocks_it(world):
    load_un()
    assert gate.partner_gate_status(world.partner, on_date=TODAY).allowed
    _screen(world)
    hit = ScreeningHit.objects.get()
    status = gate.partner_gate_status(world.partner, on_date=TODAY)
    assert status.screening_blocked and not status.allowed  # an open hit blocks
    hit = hit_confirm(actor=world.accreditation_officer, hit=hit)
    assert hit.status == HitStatus.CONFIRMED and hit.decided_by == world.accreditation_officer
    status = gate.partner_gate_status(world.partner, on_date=TODAY)
    assert not status.allowed and "screening_hit" in status.facts["problems"]
    with pytest.raises(gate.PartnerRefused):
        gate.partner_gate(world.partner, on_date=TODAY)
    with pytest.raises(Conflict):
        hit_confirm(actor=world.reviewer, hit=hit)
    hit_clear(actor=world.ministry_admin, hit=hit, reason="The ministry checked the registry: not the same body.")
    assert gate.partner_gate_status(world.partner, on_date=TODAY).allowed
    events = AuditEvent.objects.filter(subject_type="partners.screeninghit", subject_id=str(hit.pk)).order_by("seq")
    actions = list(events.values_list("action", flat=True))
    assert actions == ["screening.hit_confirm", "screening.hit_clear"]


def test_a_decision_needs_the_right_role_and_a_reason_to_clear(world):
    load_un()
    _screen(world)
    hit = ScreeningHit.objects.get()
    for user in (world.najat, world.auditor, world.partner_reporter, world.donor):
        with pytest.raises(NotAllowed):
            hit_confirm(actor=user, hit=hit)
        with pytest.raises(NotAllowed):
            hit_clear(actor=user, hit=hit, reason="no")
    with pytest.raises(DomainError) as refused:
        hit_clear(actor=world.reviewer, hit=hit, reason="   ")
    assert refused.value.code == "reason_required" and "reason" in refused.value.fields
    hit.refresh_from_db()
    assert hit.status == HitStatus.OPEN and not hit.decided_by


def test_a_superseded_hit_cannot_be_decided(world):
    load_un()
    _screen(world)
    hit = ScreeningHit.objects.get()
    load_un(generated="2026-06-01T00:00:00Z")
    hit.refresh_from_db()
    assert hit.status == HitStatus.SUPERSEDED
    with pytest.raises(Conflict):
        hit_confirm(actor=world.reviewer, hit=hit)


def test_screening_on_request_is_for_the_ministry_and_accreditation_officers(world):
    load_un()
    with pytest.raises(NotAllowed):
        screen_partner(actor=world.najat, partner=world.partner, trigger=ScreeningTrigger.MANUAL)
    # a charity's submission screens its partner, whoever submits
    assert screen_partner(actor=world.najat, partner=world.partner, trigger=ScreeningTrigger.SUBMISSION)
    with pytest.raises(DomainError):
        screen_partner(actor=world.reviewer, partner=world.charity_a, trigger=ScreeningTrigger.MANUAL)


def test_rescreening_everyone_is_bulk_and_alerts_the_projects_of_new_hits(world, monkeypatch):
    calls = []
    monkeypatch.setattr(
        "shafaf.projects.oversight.services.alerts_raise", lambda **kwargs: calls.append(kwargs["project_ids"])
    )
    Project.objects.filter(pk=world.project_a.pk).update(status="submitted")
    partners = [
        OrganizationFactory(kind=OrganizationKind.PARTNER, name_en=f"Partner number {n}", name_ar=f"شريك رقم {n}")
        for n in range(30)
    ]
    for partner in partners[:10]:
        _officer(partner, name_en=f"Officer number {partner.pk}", name_ar="")
    load_un()
    steps = []
    with CaptureQueriesContext(connection) as queries:
        summary = screening.screen_all_partners(
            trigger=ScreeningTrigger.LIST_UPDATE, progress=lambda d, t: steps.append(d)
        )
    assert summary["partners"] == 31 and summary["screenings"] == 41 and summary["new_hits"] == 1
    assert steps[-1] == 31
    assert len(queries) < 40, [q["sql"][:80] for q in queries.captured_queries]
    assert calls == [[world.project_a.pk]]
    # again: nothing new, no alert raised
    calls.clear()
    summary = screening.screen_all_partners(trigger=ScreeningTrigger.LIST_UPDATE)
    assert summary["new_hits"] == 0 and summary["hits_seen_again"] == 1 and calls == []
    assert Screening.objects.filter(trigger=ScreeningTrigger.LIST_UPDATE).count() == 82


def test_a_large_rescreen_spreads_the_matching_over_processes_with_the_same_result(world, monkeypatch):
    partners = [
        OrganizationFactory(kind=OrganizationKind.PARTNER, name_en=f"Partner number {n}", name_ar=f"شريك رقم {n}")
        for n in range(12)
    ]
    for partner in partners[:4]:
        _officer(partner, name_en=f"Officer number {partner.pk}", name_ar="")
    load_un()
    sequential = screening.screen_all_partners(trigger=ScreeningTrigger.LIST_UPDATE)
    names = {s.pk: s.names for s in Screening.objects.all()}
    monkeypatch.setattr(screening, "PROCESSES", 2)
    monkeypatch.setattr(screening, "PARALLEL_FROM", 2)
    pools = []
    real_pool = screening._parallel_pool

    def spy(index, count):
        pool = real_pool(index, count)
        pools.append(pool)
        return pool

    monkeypatch.setattr(screening, "_parallel_pool", spy)
    parallel = screening.screen_all_partners(trigger=ScreeningTrigger.LIST_UPDATE)
    assert pools and pools[0] is not None  # the forked pool did the matching
    assert parallel["partners"] == sequential["partners"] == 13 and parallel["screenings"] == sequential["screenings"]
    assert parallel["new_hits"] == 0 and parallel["hits_seen_again"] == sequential["new_hits"] == 1
    second = list(Screening.objects.exclude(pk__in=names).order_by("pk"))
    first = [names[pk] for pk in sorted(names)]
    assert [s.names for s in second] == first  # the same names screened, with the same answers


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "invalid_name"),
        ("    ", "invalid_name"),
        ("\u200f\u200e\u202b\u2066", "invalid_name"),  # only direction marks
        ("12345 67", "invalid_name"),
        ("!!! ??? ###", "invalid_name"),
        ("x" * 10_000, "name_too_long"),
        ("Hope " * 300, "invalid_name"),  # long after normalisation
        (None, "invalid_name"),
        (42, "invalid_name"),
    ],
    ids=["empty", "spaces", "marks-only", "digits", "punctuation", "10000-chars", "too-many-words", "none", "int"],
)
def test_bad_names_get_a_clear_answer_in_both_languages(world, name, code):
    load_un()
    with pytest.raises(ScreeningInputError) as refused:
        screening.screen_name(screening.current_index(), name)
    assert refused.value.code == code
    assert refused.value.message_en and refused.value.message_ar and refused.value.fields["name"]
    assert refused.value.message_en != refused.value.message_ar


@pytest.mark.parametrize(
    "name",
    [
        "Hope\u200f Organisation",  # a right-to-left mark inside
        "\u202bمنظمة الأمل\u202c",  # an embedding around the Arabic name
        "Ho\u200bpe Organisation",  # a zero-width space
        "HOPE ORGANISATION",
    ],
)
def test_invisible_characters_and_mixed_scripts_still_match(world, name):
    load_un()
    result = screening.screen_name(screening.current_index(), name, entity_type="entity")
    assert result.alert and result.matches[0].entry_id == HOPE[0]


def test_a_mixed_script_name_is_screened_and_explained(world):
    load_un()
    result = screening.screen_name(screening.current_index(), "منظمة الأمل Hope", entity_type="entity")
    assert result.matches and result.matches[0].entry_id == HOPE[0]
    assert result.matches[0].explanation_en and result.matches[0].explanation_ar


def test_the_index_is_built_once_per_set_of_current_versions(world):
    load_un()
    first = screening.current_index()
    assert screening.current_index() is first
    load_un(entities=[HOPE], generated="2026-07-01T00:00:00Z")
    second = screening.current_index()
    assert second is not first and second.entry_count == 2


# --- pages -------------------------------------------------------------------------------------------------


@pytest.fixture
def hits(world):
    load_un()
    _officer(world.partner)
    _screen(world)
    return list(ScreeningHit.objects.order_by("pk"))


def test_the_queue_shows_open_hits_first_and_filters(world, login, hits):
    hit_confirm(actor=world.reviewer, hit=hits[1])
    client = login(world.reviewer)
    response = client.get(reverse("screening:hit_list"))
    assert response.status_code == 200
    rows = list(response.context["page"])
    assert [row.status for row in rows] == [HitStatus.OPEN, HitStatus.CONFIRMED]
    response = client.get(reverse("screening:hit_list"), {"status": "confirmed"})
    assert [row.pk for row in response.context["page"]] == [hits[1].pk]
    assert client.get(reverse("screening:hit_list"), {"status": "nonsense"}).status_code == 400
    assert client.get(reverse("screening:hit_list"), {"partner": "99999999999999999999999"}).status_code == 400
    response = client.get(reverse("screening:hit_list"), HTTP_HX_REQUEST="true")
    assert b"<html" not in response.content and b"hit-row" in response.content


def test_the_hit_page_explains_in_the_page_language_and_takes_decisions(world, login, hits):
    client = login(world.accreditation_officer)
    hit = hits[0]
    text = client.get(reverse("screening:hit_detail", args=[hit.pk])).content.decode()
    assert hit.explanation_ar in text and hit.entry.entry_id in text and "منظمة الأمل" in text
    client.cookies["django_language"] = "en"
    response = client.post(reverse("screening:hit_clear", args=[hit.pk]), {"reason": ""})
    assert response.status_code == 400
    hit.refresh_from_db()
    assert hit.status == HitStatus.OPEN
    response = client.post(reverse("screening:hit_clear", args=[hit.pk]), {"reason": "Different registry number."})
    assert response.status_code == 302
    hit.refresh_from_db()
    assert hit.status == HitStatus.CLEARED and hit.decision_reason == "Different registry number."
    assert client.get(reverse("screening:hit_clear", args=[hit.pk])).status_code == 405


@pytest.mark.parametrize("persona", ["najat", "staff_b", "donor", "partner_reporter"])
def test_other_users_neither_see_nor_decide_hits(world, login, hits, persona):
    client = login(getattr(world, persona))
    hit = hits[0]
    assert client.get(reverse("screening:hit_list")).status_code == 403
    assert client.get(reverse("screening:hit_detail", args=[hit.pk])).status_code == 403
    assert client.post(reverse("screening:hit_confirm", args=[hit.pk])).status_code == 403
    assert client.post(reverse("screening:partner_screen", args=[world.partner.pk])).status_code == 403
    hit.refresh_from_db()
    assert hit.status == HitStatus.OPEN


def test_the_auditor_reads_but_does_not_decide(world, login, hits):
    client = login(world.auditor)
    assert client.get(reverse("screening:hit_detail", args=[hits[0].pk])).status_code == 200
    assert client.post(reverse("screening:hit_confirm", args=[hits[0].pk])).status_code == 403
    assert client.get(reverse("screening:hit_detail", args=[999999])).status_code == 404


def test_screen_now_goes_back_to_the_page(world, login):
    load_un()
    client = login(world.mosa_officer)
    url = reverse("screening:partner_screen", args=[world.partner.pk])
    response = client.post(url, {"next": "/organizations/"})
    assert response.status_code == 302 and response["Location"] == "/organizations/"
    assert Screening.objects.filter(trigger=ScreeningTrigger.MANUAL, screened_by=world.mosa_officer).exists()
    response = client.post(url, {"next": "https://elsewhere.example/"})
    assert response["Location"].startswith(reverse("screening:hit_list"))
    assert client.post(reverse("screening:partner_screen", args=[world.charity_a.pk])).status_code == 404


def test_the_partner_fragment_shows_hits_to_the_ministry_only(world, hits):
    request = RequestFactory().get("/organizations/1/")
    request.user = world.reviewer
    text = render_to_string("partners/screening/_partner_hits.html", {"partner": world.partner}, request=request)
    assert 'data-testid="partner-screening"' in text and "screen-now" in text
    assert hits[0].matched_name in text and 'data-status="open"' in text
    request.user = world.auditor
    text = render_to_string("partners/screening/_partner_hits.html", {"partner": world.partner}, request=request)
    assert hits[0].matched_name in text and "screen-now" not in text
    request.user = world.najat
    text = render_to_string("partners/screening/_partner_hits.html", {"partner": world.partner}, request=request)
    assert "partner-screening" not in text and hits[0].matched_name not in text


# --- API ---------------------------------------------------------------------------------------------------


def _api(user):
    client = APIClient()
    verified_login(client, user)
    return client


def test_the_api_lists_hits_and_takes_decisions(world, hits):
    client = _api(world.reviewer)
    body = client.get("/api/v1/screening-hits/").json()
    assert body["count"] == 2 and body["results"][0]["status"] == "open"
    first = body["results"][0]
    assert first["entry"]["entry_id"] in {HOPE[0], FULANI[0]} and first["entry"]["names"]
    response = client.post(f"/api/v1/screening-hits/{hits[0].pk}/clear/", {"reason": ""}, format="json")
    assert response.status_code == 400 and response.json()["error"]["fields"]["reason"]
    response = client.post(f"/api/v1/screening-hits/{hits[0].pk}/confirm/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "confirmed"
    response = client.post(f"/api/v1/screening-hits/{hits[0].pk}/confirm/", {}, format="json")
    assert response.status_code == 409
    assert client.get("/api/v1/screening-hits/", {"status": "confirmed"}).json()["count"] == 1
    assert client.get("/api/v1/sanctions-versions/").json()["count"] == 1


@pytest.mark.parametrize("persona", ["najat", "rahma", "donor", "partner_reporter"])
def test_the_api_refuses_others(world, hits, persona):
    client = _api(getattr(world, persona))
    for method, url in (
        ("get", "/api/v1/screening-hits/"),
        ("get", f"/api/v1/screening-hits/{hits[0].pk}/"),
        ("post", f"/api/v1/screening-hits/{hits[0].pk}/confirm/"),
        ("get", "/api/v1/sanctions-versions/"),
        ("post", "/api/v1/screen/"),
    ):
        response = getattr(client, method)(url, {"name": "Hope"}, format="json" if method == "post" else None)
        assert response.status_code == 403, (url, response.status_code)
        assert response.json()["error"]["code"]


def test_the_auditor_reads_through_the_api_but_neither_decides_nor_screens(world, hits):
    client = _api(world.auditor)
    assert client.get(f"/api/v1/screening-hits/{hits[0].pk}/").status_code == 200
    assert client.post(f"/api/v1/screening-hits/{hits[0].pk}/confirm/", {}, format="json").status_code == 403
    assert client.post("/api/v1/screen/", {"name": "Hope"}, format="json").status_code == 403


def test_the_screen_endpoint_answers_like_the_command(world):
    load_un(un_xml())
    client = _api(world.accreditation_officer)
    response = client.post(
        "/api/v1/screen/",
        {"name": "Khaled Abdallah al Fulani", "entity_type": "individual", "date_of_birth": "1970", "country": "SD"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"query", "alert", "matches", "ms"} and body["alert"]
    assert body["matches"][0]["list"] == "un" and body["matches"][0]["entry_id"] == FULANI[0]
    assert set(body["matches"][0]) >= {"list", "entry_id", "name", "score", "explanation"}
    assert client.post("/api/v1/screen/", {"name": "Ahmad Yousef Haddad"}, format="json").json()["alert"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "\u200f\u200f"}, "name"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": "123"}, "name"),
        ({}, "name"),
        ({"name": "Hope", "date_of_birth": "yesterday"}, "date_of_birth"),
        ({"name": "Hope", "entity_type": "vessel"}, "entity_type"),
    ],
)
def test_the_screen_endpoint_refuses_bad_input_with_field_errors(world, payload, field):
    load_un()
    client = _api(world.reviewer)
    response = client.post("/api/v1/screen/", payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"][field] and error["message"]


def test_the_screen_endpoint_speaks_the_request_language(world):
    load_un()
    client = _api(world.reviewer)
    arabic = client.post("/api/v1/screen/", {"name": "   "}, format="json").json()
    world.reviewer.language = "en"
    world.reviewer.save(update_fields=["language"])
    english = _api(world.reviewer).post("/api/v1/screen/", {"name": "   "}, format="json").json()
    assert arabic["error"]["fields"]["name"] == ["الاسم فارغ أو لا يحتوي على حروف؛ أدخل اسماً لفحصه."]
    assert english["error"]["fields"]["name"] == ["The name is empty or has no letters; enter a name to screen."]
