"""The partner registry's services, permissions and selectors."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from shafaf.accounts.choices import Role
from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import Conflict, DomainError, NotAllowed
from shafaf.partners import permissions, selectors, services
from shafaf.partners.choices import OfficerRole, PartnerNameKind, ScreeningTrigger
from shafaf.partners.models import Officer, PartnerAddress, PartnerName, PartnerProfile
from tests.factories import member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def register(actor, **overrides):
    values = {
        "name_ar": "منظمة النور للتنمية",
        "name_en": "Al-Nour Development Organisation",
        "country": "SD",
        "registration_agency": "SD-COA",
        "registration_number": "4417",
        "aliases": ["NDO", {"kind": PartnerNameKind.FORMER, "name": "جمعية النور"}],
        "addresses": [{"line": "شارع المك نمر", "city": "الخرطوم", "country": "SD"}],
        "officers": [
            {
                "role": OfficerRole.HEAD,
                "name_ar": "أحمد عثمان",
                "name_en": "Ahmed Osman",
                "nationality": "SD",
                "date_of_birth": dt.date(1968, 3, 14),
            }
        ],
    }
    values.update(overrides)
    return services.partner_register(actor=actor, **values)


def events(action):
    return AuditEvent.objects.filter(action=action)


def test_register_creates_the_partner_its_record_names_addresses_and_officers(world):
    partner = register(world.ministry_admin)
    assert partner.kind == "partner"
    assert partner.iati_org_id == "SD-COA-4417"
    profile = PartnerProfile.objects.get(organization=partner)
    assert (profile.registration_agency, profile.registration_number) == ("SD-COA", "4417")
    assert set(PartnerName.objects.filter(partner=partner).values_list("kind", "name")) == {
        ("alias", "NDO"),
        ("former", "جمعية النور"),
    }
    assert PartnerAddress.objects.get(partner=partner).city == "الخرطوم"
    officer = Officer.objects.get(partner=partner)
    assert officer.date_of_birth == dt.date(1968, 3, 14)
    event = events("partner.register").get()
    assert event.subject_id == str(partner.pk)
    assert event.changes["name_en"] == [None, "Al-Nour Development Organisation"]
    assert events("officer.add").get().subject_id == str(officer.pk)


def test_register_screens_the_partner_after_commit(world, django_capture_on_commit_callbacks):
    with mock.patch("shafaf.partners.screening.screen_partner") as screen:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            partner = register(world.accreditation_officer)
            screen.assert_not_called()  # not before the commit
        assert callbacks
    screen.assert_called_once()
    kwargs = screen.call_args.kwargs
    assert kwargs["partner"].pk == partner.pk
    assert kwargs["trigger"] == ScreeningTrigger.REGISTRATION
    assert kwargs["actor"] == world.accreditation_officer


def test_a_name_or_officer_change_screens_again(world, django_capture_on_commit_callbacks):
    partner = register(world.ministry_admin)
    with mock.patch("shafaf.partners.screening.screen_partner") as screen:
        with django_capture_on_commit_callbacks(execute=True):
            services.partner_name_add(actor=world.ministry_admin, partner=partner, name="Nour Relief")
        with django_capture_on_commit_callbacks(execute=True):
            services.officer_add(actor=world.mosa_officer, partner=partner, role="director", name_en="Fatima Idris")
        with django_capture_on_commit_callbacks(execute=True):
            services.partner_update(actor=world.ministry_admin, partner=partner, website="https://nour.example.org")
    assert [call.kwargs["trigger"] for call in screen.call_args_list] == [ScreeningTrigger.CHANGE] * 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name_ar": "  "}, "name_ar"),
        ({"name_en": ""}, "name_en"),
        ({"country": "XX"}, "country"),
        ({"registration_agency": "ZZ-NOPE"}, "registration_agency"),
        ({"registration_agency": "", "registration_number": "12"}, "registration_agency"),
        ({"registration_number": ""}, "registration_number"),
        ({"website": "javascript:alert(1)"}, "website"),
        ({"addresses": [{"line": "x", "country": "QQ"}]}, "addresses[0].country"),
        ({"officers": [{"role": "king", "name_en": "X"}]}, "officers[0].role"),
        ({"officers": [{"role": "head"}]}, "officers[0].name_en"),
        ({"officers": [{"role": "head", "name_en": "X", "date_of_birth": "14/03/1968"}]}, "officers[0].date_of_birth"),
        ({"aliases": ["Same", "same"]}, "aliases"),
    ],
)
def test_register_refuses_bad_input_with_field_errors(world, overrides, field):
    with pytest.raises(DomainError) as caught:
        register(world.ministry_admin, **overrides)
    assert field in caught.value.fields, caught.value.fields
    assert not PartnerProfile.objects.exists()
    assert not events("partner.register").exists()


def test_a_withdrawn_registration_agency_is_refused(world):
    withdrawn = next(code for code, item in services.registration_agencies().items() if item["status"] != "active")
    with pytest.raises(DomainError) as caught:
        register(world.ministry_admin, registration_agency=withdrawn)
    assert "withdrawn" in str(caught.value.fields["registration_agency"][0])


def test_registration_agency_codes_come_from_the_iati_codelist():
    agencies = services.registration_agencies()
    assert len(agencies) > 400
    assert agencies["GB-CHC"]["status"] == "active"
    assert services.agency_error("GB-CHC") is None
    assert services.agency_error("XX-NOTHING")


def test_a_partner_is_not_registered_twice(world):
    register(world.ministry_admin)
    with pytest.raises(Conflict) as caught:
        register(world.ministry_admin, name_ar="اسم آخر", name_en="Another name")
    assert caught.value.code == "duplicate"
    assert "registration_number" in caught.value.fields
    # the same legal name (written differently) in the same country, without a registration number
    with pytest.raises(Conflict) as caught:
        register(
            world.ministry_admin,
            name_en="AL-NOUR  development organisation",
            registration_agency="",
            registration_number="",
            name_ar="اسم مختلف",
        )
    assert "name_en" in caught.value.fields
    # the same name in another country is another partner
    other = register(world.ministry_admin, country="YE", registration_agency="", registration_number="")
    assert other.country == "YE"


@pytest.mark.parametrize("persona", ["reviewer", "najat", "staff_a", "donor", "partner_reporter", "auditor"])
def test_only_the_ministry_admins_and_accreditation_officers_register_partners(world, persona):
    with pytest.raises(NotAllowed):
        register(getattr(world, persona))
    assert not PartnerProfile.objects.exists()


def test_update_changes_the_record_and_is_audited(world):
    partner = register(world.ministry_admin)
    services.partner_update(actor=world.mosa_officer, partner=partner, name_en="Nour Development Org", notes="ok")
    partner.refresh_from_db()
    assert partner.name_en == "Nour Development Org"
    assert partner.partner_profile.notes == "ok"
    event = events("partner.update").get()
    assert event.changes["name_en"] == ["Al-Nour Development Organisation", "Nour Development Org"]
    with pytest.raises(DomainError):
        services.partner_update(actor=world.ministry_admin, partner=partner, country="ZZ")
    with pytest.raises(DomainError):
        services.partner_update(actor=world.ministry_admin, partner=partner, slug="x")
    with pytest.raises(NotAllowed):
        services.partner_update(actor=world.najat, partner=partner, name_en="Hijacked")


def test_update_of_a_partner_without_a_registry_record_creates_it(world):
    services.partner_update(actor=world.ministry_admin, partner=world.partner, website="https://hope.example.org")
    assert PartnerProfile.objects.get(organization=world.partner).website == "https://hope.example.org"


def test_names_addresses_and_officers_are_added_removed_and_audited(world):
    partner = register(world.ministry_admin)
    name = services.partner_name_add(actor=world.ministry_admin, partner=partner, name="Nour", kind="acronym")
    with pytest.raises(DomainError) as caught:
        services.partner_name_add(actor=world.ministry_admin, partner=partner, name="NOUR")
    assert "name" in caught.value.fields
    services.partner_name_remove(actor=world.ministry_admin, partner_name=name)
    assert not PartnerName.objects.filter(pk=name.pk).exists()
    address = services.partner_address_add(actor=world.ministry_admin, partner=partner, line="Hadda St", country="YE")
    services.partner_address_remove(actor=world.ministry_admin, address=address)
    officer = services.officer_add(
        actor=world.accreditation_officer, partner=partner, role="signatory", name_ar="يوسف", nationality="sd"
    )
    assert officer.nationality == "SD"
    services.officer_update(actor=world.ministry_admin, officer=officer, name_en="Yousif")
    services.officer_deactivate(actor=world.ministry_admin, officer=officer, reason="Resigned")
    officer.refresh_from_db()
    assert officer.name_en == "Yousif" and not officer.is_active
    with pytest.raises(Conflict):
        services.officer_deactivate(actor=world.ministry_admin, officer=officer)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "partner.name_add",
        "partner.name_remove",
        "partner.address_add",
        "partner.address_remove",
        "officer.add",
        "officer.update",
        "officer.deactivate",
    } <= actions
    with pytest.raises(NotAllowed):
        services.officer_add(actor=world.staff_a, partner=partner, role="head", name_en="X")


def test_officer_refusals(world):
    partner = register(world.ministry_admin)
    with pytest.raises(DomainError) as caught:
        services.officer_add(
            actor=world.ministry_admin,
            partner=partner,
            role="head",
            name_en="X",
            date_of_birth=dt.date.today() + dt.timedelta(days=1),
        )
    assert "date_of_birth" in caught.value.fields
    with pytest.raises(DomainError) as caught:
        services.officer_add(actor=world.ministry_admin, partner=partner, role="head", name_en="X", nationality="QQ")
    assert "nationality" in caught.value.fields


# --- who sees what ------------------------------------------------------------------------------------------


def test_visibility_of_partners(world):
    other = register(world.ministry_admin)
    everyone = {world.partner.pk, other.pk}
    for persona in (
        "reviewer",
        "ministry_admin",
        "accreditation_officer",
        "mosa_officer",
        "najat",
        "staff_b",
        "auditor",
    ):
        seen = set(selectors.partners_visible_to(getattr(world, persona)).values_list("pk", flat=True))
        assert seen == everyone, persona
    assert set(selectors.partners_visible_to(world.partner_reporter).values_list("pk", flat=True)) == {world.partner.pk}
    assert not selectors.partners_visible_to(world.donor).exists()
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.partner_get(world.partner_reporter, other.pk)
    with pytest.raises(Http404):
        selectors.partner_get(world.donor, world.partner.pk)
    with pytest.raises(Http404):
        selectors.partner_get(world.najat, world.charity_a.pk)  # not a partner
    with pytest.raises(Http404):
        selectors.partner_get(world.najat, "abc")


def test_dates_of_birth_are_for_the_ministry_auditors_officers_and_the_partner_itself(world):
    other = register(world.ministry_admin)
    for persona in ("reviewer", "ministry_admin", "accreditation_officer", "auditor"):
        assert permissions.can_view_dates_of_birth(getattr(world, persona), other), persona
    for persona in ("najat", "staff_a", "rahma", "donor"):
        assert not permissions.can_view_dates_of_birth(getattr(world, persona), other), persona
    assert permissions.can_view_dates_of_birth(world.partner_reporter, world.partner)
    assert not permissions.can_view_dates_of_birth(world.partner_reporter, other)


def test_officer_authorities(world):
    assert permissions.officer_authorities(world.accreditation_officer) == {"MOFA"}
    assert permissions.officer_authorities(world.mosa_officer) == {"MOSA"}
    assert permissions.officer_authorities(world.ministry_admin) == set()
    both = member(Role.ACCREDITATION_OFFICER, world.mofa, "both")
    from shafaf.accounts.models import Membership

    Membership.objects.create(user=both, organization=world.mosa, role=Role.ACCREDITATION_OFFICER)
    from shafaf.accounts.models import User

    assert permissions.officer_authorities(User.objects.get(pk=both.pk)) == {"MOFA", "MOSA"}


def test_the_rulebook_reads_the_accreditation_status_from_the_selectors(world):
    status = selectors.partner_accreditation_status(world.partner, dt.date(2027, 6, 1), "SD", None)
    assert status["accredited"] is True
