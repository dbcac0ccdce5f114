import datetime as dt
import io
import random
import textwrap
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from shafaf.accounts.choices import OrganizationKind, Role
from shafaf.accounts.models import Membership, Organization, User
from shafaf.audit.chain import verify_everything
from shafaf.audit.models import AuditEvent
from shafaf.coordination import demo as coordination_demo
from shafaf.projects.choices import EXTERNAL_MODELS, ProjectModel, ProjectStatus
from shafaf.projects.codelists import COUNTRIES, CURRENCIES, SECTORS
from shafaf.projects.demo import world
from shafaf.projects.demo.activities import complete, draft_from_activity
from shafaf.projects.demo.iati import iter_activities
from shafaf.projects.demo.partners import read_partner_candidates
from shafaf.projects.demo.seed import IATI_FILE
from shafaf.projects.models import Project

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {
    "reviewer": (Role.MINISTRY_REVIEWER, "mosa"),
    "mosa_admin": (Role.MINISTRY_ADMIN, "mosa"),
    "mofa_officer": (Role.ACCREDITATION_OFFICER, "mofa"),
    "mosa_officer": (Role.ACCREDITATION_OFFICER, "mosa"),
    "najat": (Role.CHARITY_ADMIN, None),
    "rahma": (Role.CHARITY_ADMIN, None),
    "donor": (Role.DONOR, None),
    "partner": (Role.PARTNER_REPORTER, None),
    "auditor": (Role.AUDITOR, None),
}


def seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        Organization.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Project.objects.count(),
        AuditEvent.objects.count(),
    )


def assert_demo_world() -> None:
    """What both the IATI world and the built-in one promise."""
    for username, (role, org_slug) in DEMO_LOGINS.items():
        user = User.objects.get(username=username)
        assert user.is_demo
        assert user.check_password("demo")
        assert user.first_name and user.last_name
        membership = Membership.objects.get(user=user)
        assert membership.role == role
        if org_slug:
            assert membership.organization.slug == org_slug
    charities = list(Organization.objects.filter(kind=OrganizationKind.CHARITY).order_by("pk"))
    assert len(charities) >= 5
    assert all(c.mosa_licence_number and c.name_ar and c.name_en for c in charities)
    najat = Membership.objects.get(user__username="najat").organization
    rahma = Membership.objects.get(user__username="rahma").organization
    assert (najat, rahma) == (charities[0], charities[1])
    assert Organization.objects.get(kind=OrganizationKind.AUTHORITY, authority_code="MOSA").slug == "mosa"
    assert Organization.objects.get(kind=OrganizationKind.AUTHORITY, authority_code="MOFA").slug == "mofa"
    assert Organization.objects.filter(kind=OrganizationKind.AUDIT_OFFICE).exists()
    partner = Membership.objects.get(user__username="partner").organization
    assert partner.kind == OrganizationKind.PARTNER
    assert partner.implemented_projects.count() >= 2

    projects = list(Project.objects.select_related("charity", "implementing_partner"))
    for project in projects:
        project.full_clean()
        assert project.locations.exists()
        assert project.created_by.memberships.filter(organization=project.charity, role=Role.CHARITY_ADMIN).exists()
        if project.project_model in EXTERNAL_MODELS:
            assert project.implementing_partner is not None
    assert {p.charity_id for p in projects} >= {najat.pk, rahma.pk}

    chain = verify_everything()
    assert chain.ok, chain.problem
    assert AuditEvent.objects.filter(action="project.create").count() == len(projects)
    assert AuditEvent.objects.filter(action="organization.create").count() == Organization.objects.count()
    assert AuditEvent.objects.filter(action="user.create").count() == User.objects.count()


@pytest.mark.skipif(not (settings.SHARED_DATA_DIR / IATI_FILE).is_file(), reason="the shared IATI data is absent")
def test_seeds_a_small_world_from_the_iati_activities():
    output = seed("--projects", "25")

    built_in = len(world.FALLBACK_PROJECTS)
    assert Project.objects.count() == 25 + built_in + coordination_demo.PROJECTS
    assert Project.objects.exclude(iati_identifier="").count() == 25
    assert (
        Project.objects.filter(iati_identifier="").exclude(title_ar="").count() == built_in + coordination_demo.PROJECTS
    )
    assert not Project.objects.filter(planned_end__year__lt=2024).exists()  # IATI's 2018-22 moved forward
    assert_demo_world()
    for project in Project.objects.exclude(iati_identifier=""):
        assert project.sector in SECTORS.active_codes()
        assert project.country in COUNTRIES.active_codes()
        assert project.currency in CURRENCIES.active_codes()
        assert project.title_en or project.title_ar
    partners = Organization.objects.filter(kind=OrganizationKind.PARTNER)
    assert partners.count() >= 30
    assert all(p.iati_org_id for p in partners)
    assert f"projects: {25 + built_in}/{25 + built_in}" in output
    assert "Demo logins" in output

    before = counts()
    assert "nothing to do" in seed("--if-empty")
    assert counts() == before


def test_falls_back_to_the_built_in_projects_without_shared_data(tmp_path):
    output = seed("--data-dir", str(tmp_path))

    assert "built-in" in output
    assert Project.objects.count() == len(world.FALLBACK_PROJECTS) + coordination_demo.PROJECTS
    assert "coordination:" in output and "flagged against" in output  # a resubmission waits in the ministry's queue
    assert_demo_world()
    assert all(p.title_ar and p.title_en and p.description_ar for p in Project.objects.all())
    assert Project.objects.filter(project_model=ProjectModel.SPONSORSHIP_INTERNAL, country="KW").exists()
    # The built-in projects were moved through the lifecycle service: every state appears, licensed ones
    # carry a licence number, and each step is in the audit chain.
    assert set(Project.objects.values_list("status", flat=True)) == set(ProjectStatus.values)
    assert not Project.objects.filter(status=ProjectStatus.IN_EXECUTION, licence_number="").exists()
    licensed = Project.objects.exclude(licence_number="").count()
    assert AuditEvent.objects.filter(action="project.approve").count() == licensed


def test_refuses_a_database_that_already_holds_data(tmp_path):
    seed("--data-dir", str(tmp_path), "--projects", "3")
    before = counts()

    with pytest.raises(CommandError, match="already"):
        seed("--data-dir", str(tmp_path))
    assert "nothing to do" in seed("--data-dir", str(tmp_path), "--if-empty")
    assert counts() == before


def test_refuses_when_a_demo_username_is_taken(tmp_path):
    User.objects.create_user("najat", password="correct horse battery staple")
    with pytest.raises(CommandError, match="najat"):
        seed("--data-dir", str(tmp_path))
    assert not Organization.objects.exists()


# --- the readers -----------------------------------------------------------------------------------

ACTIVITIES_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03">
 <iati-activity xml:lang="EN" default-currency="EUR">
  <iati-identifier>XM-TEST-1</iati-identifier>
  <reporting-org ref="XM-TEST" type="21"><narrative>Test publisher</narrative></reporting-org>
  <title>
   <narrative xml:lang="AR">Mislabelled English title</narrative>
   <narrative xml:lang="ar">مشروع مياه في الحديدة</narrative>
   <narrative xml:lang="fr">Projet d'eau</narrative>
   <narrative>Water project in Hodeidah</narrative>
  </title>
  <description type="2"><narrative>Objectives.</narrative></description>
  <description type="1"><narrative>Wells for displaced   families.</narrative></description>
  <participating-org ref="GB-CHC-328158" role="4" type="21"><narrative>Islamic Relief</narrative></participating-org>
  <activity-date iso-date="2021-06-30" type="3"/>
  <activity-date iso-date="2021-09-01" type="1"/>
  <recipient-country code="KW" percentage="10"/>
  <recipient-country code="YE" percentage="90"/>
  <location><name><narrative>Hodeidah</narrative></name><point srsName="x"><pos>14.79 42.95</pos></point></location>
  <location><point srsName="x"><pos>95 10</pos></point></location>
  <sector vocabulary="2" code="140"/>
  <sector vocabulary="1" code="43010" percentage="50"/>
  <sector vocabulary="1" code="14030" percentage="50"/>
 </iati-activity>
 <iati-activity default-currency="XXX">
  <iati-identifier>XM-TEST-2</iati-identifier>
  <title><narrative xml:lang="en">Family support in Kuwait</narrative></title>
  <activity-date iso-date="2020-01-01" type="2"/>
  <recipient-country code="KW"/>
  <transaction><sector vocabulary="1" code="16010"/></transaction>
 </iati-activity>
 <iati-activity>
  <iati-identifier>XM-TEST-3</iati-identifier>
  <title><narrative>No country, no sector</narrative></title>
 </iati-activity>
</iati-activities>
"""


def test_the_iati_reader_maps_activities_to_project_fields(tmp_path):
    path = tmp_path / "activities.xml"
    path.write_text(ACTIVITIES_XML, encoding="utf-8")
    first, second, third = list(iter_activities(path))

    draft = draft_from_activity(first)
    fields = draft.fields
    assert fields["title_ar"] == "مشروع مياه في الحديدة"  # Arabic script only, whatever the tag says
    assert fields["title_en"] == "Water project in Hodeidah"  # inherits the activity's xml:lang
    assert fields["description_en"] == "Wells for displaced families."  # the general description first
    assert fields["country"] == "YE"  # the largest share
    assert fields["sector"] == "14030"  # DAC 5-digit, specific before "multisector"
    assert fields["currency"] == "EUR"
    assert fields["planned_start"] == dt.date(2021, 9, 1)
    assert fields["planned_end"] >= fields["planned_start"]  # the published end was before the start
    assert draft.locations == [
        {
            "admin_area_ar": "",
            "admin_area_en": "Hodeidah",
            "latitude": Decimal("14.790000"),
            "longitude": Decimal("42.950000"),
        }
    ]
    assert draft.implementer_refs == ("GB-CHC-328158",)
    completed = complete(draft, random.Random(1))
    assert completed["project_model"] == ProjectModel.CONSTRUCTION_EXTERNAL
    assert completed["beneficiary_group"] == "refugees"
    assert completed["beneficiary_count"] >= 1

    kuwait = complete(draft_from_activity(second), random.Random(1))
    assert kuwait["country"] == "KW"
    assert kuwait["project_model"] in {ProjectModel.SOCIAL_DEVELOPMENT_INTERNAL, ProjectModel.SPONSORSHIP_INTERNAL}
    assert kuwait["sector"] == "16010"  # from the transactions
    assert kuwait["currency"] == "USD"  # XXX is not an active currency
    assert kuwait["planned_end"] == dt.date(2020, 12, 30)

    assert draft_from_activity(third) is None


def test_partner_candidates_are_identified_non_governmental_implementers(tmp_path):
    path = tmp_path / "orgs.csv"
    path.write_text(
        textwrap.dedent(
            """\
            ref,name,other_names,registration_agency,registration_agency_name,crs_channel_name,org_type,roles,top_countries,mentions,reported_by_n
            GB-CHC-328158,Islamic Relief Worldwide,,GB-CHC,,,21,2:3 4:2,SO YE,5,1
            NO-BRC-977538319,NORWEGIAN REFUGEE COUNCIL (NOR),,NO-BRC,,,21,1:2 4:48,SO YE,50,1
            GB-GOV-1,Foreign Office,,GB-GOV,,,10,1:359 4:17,BD,529,1
            XM-DAC-22000,ONG basée dans un pays donneur,,XM-DAC,,,22,4:30,BA,30,1
            N/A,Recipient Government,,,,,15,4:2012,GE,2012,3
            XM-DAC-7777,Funder only,,XM-DAC,,,21,1:20,BD,20,1
            """
        ),
        encoding="utf-8",
    )
    candidates = read_partner_candidates(path, COUNTRIES.keys())
    assert [c.ref for c in candidates] == ["NO-BRC-977538319", "GB-CHC-328158"]
    nrc, relief = candidates
    assert (nrc.name_en, nrc.name_ar, nrc.country) == ("Norwegian Refugee Council", "المجلس النرويجي للاجئين", "NO")
    assert relief.name_ar == "الإغاثة الإسلامية عبر العالم"
