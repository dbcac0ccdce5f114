"""The demo's coordination story (`manage.py seed_demo`): charity A submits a well-digging project in North
Kordofan; charity B submits the same work a few weeks later, written in Arabic only, with the same implementing
partner, a site a few hundred metres away and a slightly different budget. The online check flags it as a likely
duplicate within B's submission, and the flag waits in the ministry's coordination queue (A is already under
review: its approval is refused until the ministry decides)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from shafaf.projects import services as projects
from shafaf.projects.choices import BeneficiaryGroup, ProjectModel

# The projects the story adds to the demo.
PROJECTS = 2

WELLS_A = {
    "title_ar": "حفر ثماني آبار ارتوازية في قرى محلية أم روابة بولاية شمال كردفان",
    "title_en": "Drilling 8 artesian wells in villages of Um Rawaba, North Kordofan",
    "description_ar": (
        "حفر ثماني آبار ارتوازية بعمق ١٥٠ متراً مزودة بمضخات تعمل بالطاقة الشمسية وخزانات علوية، لتوفير مياه "
        "الشرب النظيفة لنحو ٤٢٠٠ نسمة في قرى أم روابة، مع تدريب لجان محلية على تشغيل الآبار وصيانتها."
    ),
    "description_en": (
        "Eight artesian wells, 150 m deep, with solar-powered pumps and raised tanks, bringing clean drinking water "
        "to about 4,200 people in the villages of Um Rawaba; local committees are trained to run and maintain them."
    ),
    "project_model": ProjectModel.CONSTRUCTION_EXTERNAL,
    "sector": "14031",
    "country": "SD",
    "beneficiary_group": BeneficiaryGroup.COMMUNITY,
    "beneficiary_count": 4200,
    "planned_start": dt.date(2026, 10, 1),
    "planned_end": dt.date(2027, 6, 30),
    "currency": "KWD",
}
# Charity B's resubmission: written in Arabic (a short English title), reworded, 4,000 people, a month later.
WELLS_B = {
    "title_ar": "مشروع سقيا: حفر ٨ آبار مياه في أم روابة - شمال كردفان",
    "title_en": "Sugya water wells, Um Rawaba",
    "description_ar": (
        "حفر ٨ آبار ارتوازية بعمق ١٥٠ متر وتركيب منظومات ضخ بالطاقة الشمسية وخزانات مياه، لتأمين مياه شرب "
        "نظيفة لأربعة آلاف نسمة في قرى محلية أم روابة، وتدريب لجان القرى على صيانة الآبار."
    ),
    "description_en": "",
    "project_model": ProjectModel.CONSTRUCTION_EXTERNAL,
    "sector": "14031",
    "country": "SD",
    "beneficiary_group": BeneficiaryGroup.COMMUNITY,
    "beneficiary_count": 4000,
    "planned_start": dt.date(2026, 11, 1),
    "planned_end": dt.date(2027, 7, 31),
    "currency": "KWD",
}
SITE_A = [
    {"admin_area_ar": "أم روابة", "admin_area_en": "Um Rawaba", "latitude": "12.906000", "longitude": "31.214000"}
]
SITE_B = [{"admin_area_ar": "أم روابة", "admin_area_en": "", "latitude": "12.909500", "longitude": "31.217500"}]


def _lines(programme: str, administration: str) -> list[dict]:
    return [
        {
            "category": "programme",
            "name_ar": "حفر الآبار وتجهيزها",
            "name_en": "Drilling and equipping",
            "amount": programme,
        },
        {
            "category": "administration",
            "name_ar": "مصاريف إدارية",
            "name_en": "Administration",
            "amount": administration,
        },
    ]


def seed_coordination(
    *,
    charity_a,
    admin_a,
    charity_b,
    admin_b,
    reviewer,
    partner=None,
    prepare: Callable[[object, object], None] = lambda project, admin: None,
    say: Callable[[str], None] = lambda line: None,
) -> dict:
    """Creates and submits the two projects through the services (so the check runs as it does for a charity).
    `prepare(project, admin)` attaches what the rulebook expects before a submission (documents, licence of the
    administrative share). Answers {"a", "b", "flag", "level", "score"}."""
    from shafaf.finance import budgets

    from .models import Flag

    a = projects.project_create(
        actor=admin_a, charity=charity_a, locations=SITE_A, implementing_partner=partner, **WELLS_A
    )
    prepare(a, admin_a)
    budgets.budget_version_create(actor=admin_a, project=a, lines=_lines("52000", "4000"))
    a = projects.project_transition(actor=admin_a, project=a, action="submit")
    a = projects.project_transition(actor=reviewer, project=a, action="start-review")

    b = projects.project_create(
        actor=admin_b, charity=charity_b, locations=SITE_B, implementing_partner=partner, **WELLS_B
    )
    prepare(b, admin_b)
    budgets.budget_version_create(actor=admin_b, project=b, lines=_lines("49500", "3700"))
    b = projects.project_transition(actor=admin_b, project=b, action="submit")

    flag = Flag.objects.filter(project_a=a, project_b=b).first()
    if flag is None:
        say(f"  coordination: {b.reference} was not flagged against {a.reference}")
        return {"a": a.reference, "b": b.reference, "flag": None, "level": None, "score": None}
    say(f"  coordination: {b.reference} flagged against {a.reference} ({flag.level}, score {flag.score:.1f})")
    return {"a": a.reference, "b": b.reference, "flag": flag.pk, "level": flag.level, "score": flag.score}
