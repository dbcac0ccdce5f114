"""project_create and project_update: references, every refused input, who may edit, and the database
constraints behind the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from shafaf.accounts.choices import Role
from shafaf.audit.models import AuditEvent
from shafaf.core.exceptions import DomainError, NotAllowed
from shafaf.projects import services
from shafaf.projects.choices import ProjectModel
from shafaf.projects.models import Project, ProjectLocation, ProjectSequence
from tests.factories import make_project, member, project_data


def reference(year: int, number: int) -> str:
    return f"PRJ-{year}-{number:06d}"


# --- references -------------------------------------------------------------------------------------------------


def test_references_are_sequential_per_year(world):
    year = timezone.localdate().year
    assert world.project_a.reference == reference(year, 1)
    assert world.project_b.reference == reference(year, 2)
    assert make_project(world.rahma, world.charity_b).reference == reference(year, 3)
    with mock.patch("shafaf.projects.services.timezone.localdate", return_value=dt.date(year + 1, 1, 1)):
        assert make_project(world.najat, world.charity_a).reference == reference(year + 1, 1)
    assert make_project(world.najat, world.charity_a).reference == reference(year, 4)
    assert ProjectSequence.objects.get(year=year).last_number == 4


def test_a_refused_project_uses_up_no_reference(world):
    year = timezone.localdate().year
    with pytest.raises(DomainError):
        make_project(world.najat, world.charity_a, beneficiary_count=0)
    with pytest.raises(NotAllowed):
        make_project(world.najat, world.charity_b)
    assert make_project(world.najat, world.charity_a).reference == reference(year, 3)


# --- every refused input ---------------------------------------------------------------------------------------------


BAD_INPUTS = [
    ({"title_ar": "", "title_en": ""}, None, "title_ar"),
    ({"title_ar": "   ", "title_en": "  "}, None, "title_ar"),
    ({"sector": "99999"}, None, "sector"),
    ({"sector": "11321"}, None, "sector"),  # withdrawn from the DAC list
    ({"country": "XX"}, None, "country"),
    ({"country": "AN"}, None, "country"),  # withdrawn ISO code
    ({"currency": "EEK"}, None, "currency"),  # inactive ISO 4217 code
    ({"currency": "ZZZ"}, None, "currency"),
    ({"planned_start": dt.date(2027, 6, 1), "planned_end": dt.date(2027, 5, 31)}, None, "planned_end"),
    ({"project_model": ProjectModel.CONSTRUCTION_INTERNAL, "country": "SD"}, None, "country"),
    ({"project_model": ProjectModel.SPONSORSHIP_INTERNAL, "country": "JO"}, None, "country"),
    ({"project_model": ProjectModel.CONSTRUCTION_EXTERNAL, "country": "KW"}, None, "country"),
    ({"project_model": "no_such_model"}, None, "project_model"),
    ({"beneficiary_group": "aliens"}, None, "beneficiary_group"),
    ({"beneficiary_count": 0}, None, "beneficiary_count"),
    ({"beneficiary_count": -5}, None, "beneficiary_count"),
    ({}, [{"admin_area_en": "Khartoum", "latitude": Decimal("15.5")}], "locations[0].longitude"),
    ({}, [{"admin_area_en": "Khartoum", "longitude": Decimal("32.5")}], "locations[0].longitude"),
    (
        {},
        [{"admin_area_en": "Khartoum", "latitude": Decimal(95), "longitude": Decimal(32)}],
        "locations[0].latitude",
    ),
    (
        {},
        [{"admin_area_en": "Khartoum", "latitude": Decimal(15), "longitude": Decimal(181)}],
        "locations[0].longitude",
    ),
    ({}, [{"admin_area_ar": "", "admin_area_en": " "}], "locations[0].admin_area_ar"),
    ({}, [{"admin_area_en": "Khartoum"}, {"admin_area_en": ""}], "locations[1].admin_area_ar"),
]


def test_each_bad_input_is_refused_with_its_field(world):
    before = (Project.objects.count(), ProjectLocation.objects.count(), AuditEvent.objects.count())
    for overrides, locations, field in BAD_INPUTS:
        with pytest.raises(DomainError) as error:
            services.project_create(
                actor=world.najat, charity=world.charity_a, locations=locations, **project_data(**overrides)
            )
        assert error.value.code == "invalid", overrides
        assert field in error.value.fields, (overrides, locations, error.value.fields)
        assert error.value.fields[field] and all(str(m) for m in error.value.fields[field])
        assert (Project.objects.count(), ProjectLocation.objects.count(), AuditEvent.objects.count()) == before


def test_a_title_in_one_language_is_enough(world):
    assert make_project(world.najat, world.charity_a, title_en="").title("en") == "حفر بئر ارتوازي في قرية النور"
    assert make_project(world.najat, world.charity_a, title_ar="").title("ar") == (
        "Drilling an artesian well in Al-Noor village"
    )


def test_an_internal_project_in_kuwait_and_a_various_one_anywhere_are_fine(world):
    assert make_project(world.najat, world.charity_a, project_model=ProjectModel.CONSTRUCTION_INTERNAL, country="KW")
    assert make_project(world.najat, world.charity_a, project_model=ProjectModel.VARIOUS, country="KW")
    assert make_project(world.najat, world.charity_a, project_model=ProjectModel.VARIOUS, country="YE")


def test_unknown_fields_are_refused(world):
    with pytest.raises(DomainError):
        services.project_create(actor=world.najat, charity=world.charity_a, status="approved", **project_data())
    with pytest.raises(DomainError):
        services.project_update(actor=world.najat, project=world.project_a, reference="PRJ-1999-000001")
    world.project_a.refresh_from_db()
    assert world.project_a.status == "draft"


def test_the_implementing_partner_must_be_a_partner(world):
    with pytest.raises(DomainError) as error:
        make_project(world.najat, world.charity_a, implementing_partner=world.charity_b)
    assert "implementing_partner" in error.value.fields


def test_only_charity_admins_and_staff_create_for_their_own_charity(world):
    finance = member(Role.CHARITY_FINANCE, world.charity_a, "finance_a")
    assert make_project(world.staff_a, world.charity_a).charity == world.charity_a
    for actor in (finance, world.reviewer, world.auditor, world.donor, world.partner_reporter, world.rahma):
        with pytest.raises(NotAllowed):
            make_project(actor, world.charity_a)


# --- updates ------------------------------------------------------------------------------------------------------


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def test_an_update_records_only_the_changed_fields(world):
    seq = last_event().seq
    services.project_update(
        actor=world.najat,
        project=world.project_a,
        title_en="A deeper well",
        beneficiary_count=500,  # unchanged
        sector="14030",  # unchanged
        planned_end=dt.date(2028, 6, 30),
    )
    event = last_event()
    assert event.seq == seq + 1
    assert event.changes == {
        "title_en": ["Drilling an artesian well in Al-Noor village", "A deeper well"],
        "planned_end": ["2027-12-31", "2028-06-30"],
    }
    world.project_a.refresh_from_db()
    assert (world.project_a.title_en, world.project_a.planned_end) == ("A deeper well", dt.date(2028, 6, 30))


def test_an_update_that_changes_nothing_records_nothing(world):
    seq = last_event().seq
    updated_at = Project.objects.get(pk=world.project_a.pk).updated_at
    services.project_update(
        actor=world.najat,
        project=world.project_a,
        title_en="Drilling an artesian well in Al-Noor village",
        locations=[{"admin_area_ar": "ولاية الخرطوم", "admin_area_en": "Khartoum"}],
    )
    assert last_event().seq == seq
    assert Project.objects.get(pk=world.project_a.pk).updated_at == updated_at


def test_replacing_the_locations_records_them(world):
    new_locations = [{"admin_area_en": "Kassala", "latitude": Decimal("15.45"), "longitude": Decimal("36.4")}]
    services.project_update(actor=world.najat, project=world.project_a, locations=new_locations)
    event = last_event()
    assert event.changes == {
        "locations": [
            [{"admin_area_ar": "ولاية الخرطوم", "admin_area_en": "Khartoum", "latitude": None, "longitude": None}],
            [{"admin_area_ar": "", "admin_area_en": "Kassala", "latitude": "15.450000", "longitude": "36.400000"}],
        ]
    }
    location = world.project_a.locations.get()
    assert (location.admin_area_en, location.latitude, location.longitude) == (
        "Kassala",
        Decimal("15.45"),
        Decimal("36.4"),
    )

    # The same point again, however it is written, is no change.
    seq = event.seq
    for same in ("15.45", Decimal("15.450000"), Decimal("15.4500")):
        services.project_update(
            actor=world.najat,
            project=world.project_a,
            locations=[{"admin_area_en": "Kassala", "latitude": same, "longitude": "36.4"}],
        )
        assert last_event().seq == seq, same


def test_a_refused_update_changes_nothing(world):
    seq = last_event().seq
    with pytest.raises(DomainError) as error:
        services.project_update(
            actor=world.najat,
            project=world.project_a,
            title_en="Half-saved?",
            locations=[{"admin_area_en": "Kassala", "latitude": Decimal("95"), "longitude": Decimal("1")}],
        )
    assert "locations[0].latitude" in error.value.fields
    world.project_a.refresh_from_db()
    assert world.project_a.title_en == "Drilling an artesian well in Al-Noor village"
    assert world.project_a.locations.get().admin_area_en == "Khartoum"
    assert last_event().seq == seq


def test_others_cannot_update_a_charitys_project(world):
    for persona in ("staff_b", "rahma", "reviewer", "ministry_admin", "auditor", "partner", "donor"):
        with pytest.raises(NotAllowed):
            services.project_update(actor=world.personas()[persona], project=world.project_a, title_en="Taken over")
    world.project_a.refresh_from_db()
    assert world.project_a.title_en == "Drilling an artesian well in Al-Noor village"


def test_only_a_draft_can_be_edited(world):
    Project.objects.filter(pk=world.project_a.pk).update(status="submitted")
    world.project_a.refresh_from_db()
    with pytest.raises(NotAllowed):
        services.project_update(actor=world.najat, project=world.project_a, title_en="Too late")


def test_a_stale_copy_cannot_edit_a_project_that_left_the_draft(world):
    stale = Project.objects.get(pk=world.project_a.pk)
    Project.objects.filter(pk=world.project_a.pk).update(status="submitted")
    with pytest.raises(NotAllowed):
        services.project_update(actor=world.najat, project=stale, title_en="Too late")
    assert Project.objects.get(pk=world.project_a.pk).title_en == "Drilling an artesian well in Al-Noor village"


# --- the database refuses bad rows even without the service ------------------------------------------------------


def _raw_project(world, **overrides):
    data = project_data(**overrides)
    return Project(charity=world.charity_a, created_by=world.najat, reference=f"RAW-{id(data)}", **data)


def test_project_check_constraints(world):
    for overrides in (
        {"title_ar": "", "title_en": ""},
        {"planned_start": dt.date(2027, 6, 1), "planned_end": dt.date(2027, 5, 31)},
        {"beneficiary_count": 0},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            _raw_project(world, **overrides).save()
    _raw_project(world).save()  # and a good row goes in


def test_the_iati_identifier_is_unique_per_charity(world):
    _raw_project(world, iati_identifier="XM-DAC-1-1").save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _raw_project(world, iati_identifier="XM-DAC-1-1").save()
    # Blank identifiers do not clash; another charity may use the same one.
    _raw_project(world).save()
    _raw_project(world).save()
    other = _raw_project(world, iati_identifier="XM-DAC-1-1")
    other.charity = world.charity_b
    other.save()


def test_the_service_reports_a_duplicate_iati_identifier_as_a_domain_error(world):
    make_project(world.najat, world.charity_a, iati_identifier="XM-DAC-41114-1")
    with pytest.raises(DomainError):
        make_project(world.najat, world.charity_a, iati_identifier="XM-DAC-41114-1")


def test_location_check_constraints(world):
    for location in (
        {"admin_area_ar": "", "admin_area_en": ""},
        {"admin_area_en": "Khartoum", "latitude": Decimal("15.5")},  # lat without lon
        {"admin_area_en": "Khartoum", "longitude": Decimal("32.5")},  # lon without lat
        {"admin_area_en": "Khartoum", "latitude": Decimal("95"), "longitude": Decimal("32")},
        {"admin_area_en": "Khartoum", "latitude": Decimal("15"), "longitude": Decimal("-181")},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ProjectLocation.objects.create(project=world.project_a, **location)
    # Whole points and no point at all go in.
    ProjectLocation.objects.create(project=world.project_a, admin_area_en="Kassala")
    ProjectLocation.objects.create(
        project=world.project_a, admin_area_ar="كسلا", latitude=Decimal("-90"), longitude=Decimal("180")
    )
