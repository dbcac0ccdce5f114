"""Projects that overlap across charities, for the tests of the coordination app (services, selectors, commands)."""

from __future__ import annotations

import datetime as dt

from shafaf.projects import services as project_services
from shafaf.projects.choices import BeneficiaryGroup, ProjectModel, ProjectStatus
from shafaf.projects.models import Project
from tests.factories import make_project

WELL_SITE = [
    {"admin_area_ar": "ولاية الخرطوم", "admin_area_en": "Khartoum", "latitude": "15.5007", "longitude": "32.5599"}
]
# 0.6 km away from WELL_SITE.
WELL_SITE_NEARBY = [{"admin_area_ar": "الخرطوم", "admin_area_en": "", "latitude": "15.5040", "longitude": "32.5640"}]

WELL_A = {
    "title_ar": "حفر ١٠ آبار ارتوازية في قرية النور بولاية الخرطوم",
    "title_en": "Drilling 10 artesian wells in Al-Noor village, Khartoum State",
    "description_ar": "حفر عشرة آبار بعمق ١٢٠ متراً لتوفير مياه الشرب النظيفة لخمسمئة أسرة في قرية النور.",
    "description_en": "Drilling 10 wells 120 m deep to give clean drinking water to 500 families in Al-Noor village.",
    "project_model": ProjectModel.CONSTRUCTION_EXTERNAL,
    "sector": "14030",
    "country": "SD",
    "beneficiary_group": BeneficiaryGroup.FAMILIES,
    "beneficiary_count": 500,
    "planned_start": dt.date(2027, 1, 1),
    "planned_end": dt.date(2027, 12, 31),
}
# The same work resubmitted by another charity, in Arabic only, a little later and a little bigger.
WELL_B = {
    "title_ar": "مشروع حفر ١٠ آبار مياه شرب في قرية النور - الخرطوم",
    "title_en": "",
    "description_ar": "حفر ١٠ آبار ارتوازية بعمق ١٢٠ متر لتوفير مياه الشرب النظيفة لخمسمائة أسرة في قرية النور.",
    "description_en": "",
    "project_model": ProjectModel.CONSTRUCTION_EXTERNAL,
    "sector": "14030",
    "country": "SD",
    "beneficiary_group": BeneficiaryGroup.FAMILIES,
    "beneficiary_count": 520,
    "planned_start": dt.date(2027, 2, 1),
    "planned_end": dt.date(2027, 12, 31),
}
# Another charity's project that has nothing to do with wells.
ORPHANS = {
    "title_ar": "كفالة ٢٠٠ يتيم في عمّان",
    "title_en": "Sponsoring 200 orphans in Amman",
    "description_ar": "كفالة شهرية للأيتام وتعليمهم.",
    "description_en": "Monthly sponsorship and schooling of orphans.",
    "project_model": ProjectModel.SPONSORSHIP_EXTERNAL,
    "sector": "16010",
    "country": "JO",
    "beneficiary_group": BeneficiaryGroup.ORPHANS,
    "beneficiary_count": 200,
    "planned_start": dt.date(2026, 1, 1),
    "planned_end": dt.date(2026, 12, 31),
}


def submit(actor, project) -> Project:
    return project_services.project_transition(actor=actor, project=project, action="submit")


def new_project(actor, charity, *, locations=None, **fields) -> Project:
    data = {**WELL_A, **fields}
    return make_project(actor, charity, locations=WELL_SITE if locations is None else locations, **data)


def well_pair(world, *, submit_b: bool = True, partner_b=True, **b_fields) -> tuple[Project, Project]:
    """Charity A's well project (submitted) and charity B's resubmission of it (submitted unless told not)."""
    a = new_project(world.najat, world.charity_a, implementing_partner=world.partner)
    a = submit(world.najat, a)
    fields = {**WELL_B, **b_fields}
    b = make_project(
        world.rahma,
        world.charity_b,
        locations=WELL_SITE_NEARBY,
        implementing_partner=world.partner if partner_b else None,
        **fields,
    )
    if submit_b:
        b = submit(world.rahma, b)
    return a, b


def set_status(project: Project, status: str, **extra) -> Project:
    """Moves a project directly (for tests of what coordination does with a state, not of the workflow)."""
    values = {"status": status, **extra}
    if status in (ProjectStatus.APPROVED, ProjectStatus.IN_EXECUTION, ProjectStatus.COMPLETED) and not (
        project.licence_number or "licence_number" in extra
    ):
        values.update(licence_number=f"MOSA-TEST-{project.pk}", licence_date=dt.date(2026, 1, 1))
    Project.objects.filter(pk=project.pk).update(**values)
    project.refresh_from_db()
    return project
