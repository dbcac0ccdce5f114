"""The demo's plans and strategies (`manage.py seed_demo`), written through the services so the audit chain holds
every step:

- the ministry's strategic plan for charitable work, in force: pillars in the spirit of Kuwait Vision 2035
  ("New Kuwait") and objectives serving the Sustainable Development Goals 1, 2, 3, 4, 6 and 11, each with an
  indicator, its baseline and a target per year;
- each demo charity's plan, in force, with objectives mapped to the ministry's and indicators feeding the
  ministry's indicators;
- the demo projects linked to their charity's objective (by DAC sector) while they are drafts, each with an
  indicator of people reached feeding its charity's indicator;
- after the lifecycle, progress reports of the licensed projects carrying values: the first accepted by the
  ministry (they count), the next submitted (pending), so the roll-ups show real figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.utils import timezone

from shafaf.core.exceptions import DomainError

from . import services
from .choices import Aggregation, ObjectiveKind, Unit

PLAN_YEARS = (2025, 2030)

# (code, kind, Arabic title, English title, SDG, parent code)
MINISTRY_OBJECTIVES = [
    ("P1", ObjectiveKind.PILLAR, "رعاية صحية عالية الجودة", "High-quality healthcare", None, None),
    (
        "P1.1",
        ObjectiveKind.OBJECTIVE,
        "تيسير الوصول إلى الرعاية الصحية للمجتمعات الأشد حاجة",
        "Access to health care for the communities most in need",
        3,
        "P1",
    ),
    ("P2", ObjectiveKind.PILLAR, "رأس مال بشري إبداعي", "Creative human capital", None, None),
    (
        "P2.1",
        ObjectiveKind.OBJECTIVE,
        "تعليم جيد ومنصف للأطفال والأيتام",
        "Quality, inclusive education for children and orphans",
        4,
        "P2",
    ),
    (
        "P3",
        ObjectiveKind.PILLAR,
        "مكانة دولية متميزة في العمل الإنساني",
        "A distinguished international standing in humanitarian work",
        None,
        None,
    ),
    (
        "P3.1",
        ObjectiveKind.OBJECTIVE,
        "القضاء على الجوع وتعزيز الأمن الغذائي",
        "Zero hunger and food security",
        2,
        "P3",
    ),
    (
        "P3.2",
        ObjectiveKind.OBJECTIVE,
        "الحد من الفقر وتمكين الأسر من سبل عيش مستدامة",
        "Less poverty: sustainable livelihoods for families",
        1,
        "P3",
    ),
    (
        "P3.3",
        ObjectiveKind.OBJECTIVE,
        "توفير المياه النظيفة والصرف الصحي",
        "Clean water and sanitation",
        6,
        "P3",
    ),
    ("P4", ObjectiveKind.PILLAR, "بيئة معيشية مستدامة", "A sustainable living environment", None, None),
    (
        "P4.1",
        ObjectiveKind.OBJECTIVE,
        "مساكن ومجتمعات آمنة وقادرة على الصمود",
        "Safe and resilient housing and communities",
        11,
        "P4",
    ),
]
# Per ministry objective: (indicator code, Arabic name, English name, unit, baseline, yearly target).
MINISTRY_INDICATORS = {
    "P1.1": ("M-HEALTH", "عدد المستفيدين من الخدمات الصحية", "People receiving health services", Unit.PEOPLE, 0, 6000),
    "P2.1": ("M-EDU", "عدد الأطفال الملتحقين بالتعليم", "Children in education", Unit.PEOPLE, 0, 4000),
    "P3.1": (
        "M-FOOD",
        "عدد المستفيدين من المساعدات الغذائية",
        "People receiving food assistance",
        Unit.PEOPLE,
        0,
        12000,
    ),
    "P3.2": ("M-LIVE", "عدد المستفيدين من برامج التمكين", "People in livelihood programmes", Unit.PEOPLE, 0, 5000),
    "P3.3": (
        "M-WATER",
        "عدد المستفيدين من مياه الشرب النظيفة",
        "People with clean drinking water",
        Unit.PEOPLE,
        0,
        8000,
    ),
    "P4.1": ("M-HOUSE", "عدد المستفيدين من المساكن الآمنة", "People in safe housing", Unit.PEOPLE, 0, 3000),
}
CHARITY_TITLES = {
    "P1.1": ("خدمات صحية للأسر المحتاجة", "Health services for families in need"),
    "P2.1": ("تعليم الأيتام والأطفال المحتاجين", "Education for orphans and children in need"),
    "P3.1": ("سلال غذائية ووجبات للأسر المحتاجة", "Food baskets and meals for families in need"),
    "P3.2": ("كفالة الأسر وتمكينها اقتصادياً", "Sponsoring families and their livelihoods"),
    "P3.3": ("آبار ومشاريع مياه الشرب", "Wells and drinking-water projects"),
    "P4.1": ("بناء المساكن والمرافق المجتمعية", "Building homes and community facilities"),
}


def objective_for_sector(sector: str) -> str:
    """The ministry objective a DAC sector serves (five-digit code)."""
    sector = sector or ""
    if sector.startswith("140"):
        return "P3.3"
    if sector.startswith(("121", "122", "123", "130")):
        return "P1.1"
    if sector.startswith(("111", "112", "113", "114")):
        return "P2.1"
    if sector.startswith(("72040", "311", "520")):
        return "P3.1"
    if sector.startswith(("16030", "730", "740")):
        return "P4.1"
    return "P3.2"


def _years():
    return [(dt.date(year, 1, 1), dt.date(year, 12, 31)) for year in range(PLAN_YEARS[0], PLAN_YEARS[1] + 1)]


def _ministry_plan(ministry, admin) -> dict:
    plan = services.plan_create(
        actor=admin,
        organization=ministry,
        code="mosa-charitable-work-2025-2030",
        name_ar="الخطة الاستراتيجية للعمل الخيري ٢٠٢٥–٢٠٣٠ (كويت جديدة)",
        name_en="Strategic plan for charitable work 2025–2030 (New Kuwait)",
        period_start=dt.date(PLAN_YEARS[0], 1, 1),
        period_end=dt.date(PLAN_YEARS[1], 12, 31),
        note="الإصدار الأول المعتمد من الوزارة.",
    )
    version = plan.versions.get()
    objectives, indicators = {}, {}
    for position, (code, kind, title_ar, title_en, sdg, parent) in enumerate(MINISTRY_OBJECTIVES, start=1):
        objectives[code] = services.objective_create(
            actor=admin,
            version=version,
            code=code,
            kind=kind,
            title_ar=title_ar,
            title_en=title_en,
            sdg_goal=sdg,
            parent=objectives.get(parent),
            position=position,
        )
    for code, (indicator_code, name_ar, name_en, unit, baseline, target) in MINISTRY_INDICATORS.items():
        indicator = services.indicator_create(
            actor=admin,
            objective=objectives[code],
            code=indicator_code,
            name_ar=name_ar,
            name_en=name_en,
            definition_ar="مجموع المستفيدين الذين وصلتهم مشاريع الجمعيات في السنة، كما تقرّه تقارير الإنجاز المقبولة.",
            definition_en="People reached by the charities' projects in the year, as accepted progress reports state.",
            unit=unit,
            aggregation=Aggregation.SUM,
            baseline=str(baseline),
            baseline_date=dt.date(PLAN_YEARS[0] - 1, 12, 31),
        )
        for start, end in _years():
            services.target_set(actor=admin, indicator=indicator, period_start=start, period_end=end, value=target)
        indicators[code] = indicator
    services.version_publish(actor=admin, version=version)
    return {"plan": plan, "objectives": objectives, "indicators": indicators}


def _charity_plan(charity, admin, ministry: dict, codes: list[str]) -> dict:
    plan = services.plan_create(
        actor=admin,
        organization=charity,
        code=f"{charity.slug}-strategy"[:60],
        name_ar=f"الخطة الاستراتيجية {charity.name_ar}",
        name_en=f"{charity.name_en} strategic plan",
        period_start=dt.date(PLAN_YEARS[0], 1, 1),
        period_end=dt.date(PLAN_YEARS[1], 12, 31),
    )
    version = plan.versions.get()
    goal = services.objective_create(
        actor=admin,
        version=version,
        code="G1",
        kind=ObjectiveKind.GOAL,
        title_ar="الوصول إلى الأسر الأشد حاجة داخل الكويت وخارجها",
        title_en="Reaching the families most in need, in Kuwait and abroad",
        position=1,
    )
    objectives, indicators = {}, {}
    for position, code in enumerate(codes, start=1):
        title_ar, title_en = CHARITY_TITLES[code]
        objective = services.objective_create(
            actor=admin,
            version=version,
            code=f"G1.{position}",
            kind=ObjectiveKind.OBJECTIVE,
            title_ar=title_ar,
            title_en=title_en,
            parent=goal,
            position=position,
            maps_to=ministry["objectives"][code],
            sdg_goal=ministry["objectives"][code].sdg_goal,
        )
        target = ministry["indicators"][code]
        indicator = services.indicator_create(
            actor=admin,
            objective=objective,
            code=f"C-{target.code[2:]}",
            name_ar=target.name_ar,
            name_en=target.name_en,
            unit=target.unit,
            aggregation=Aggregation.SUM,
            baseline="0",
            baseline_date=dt.date(PLAN_YEARS[0] - 1, 12, 31),
            feeds=target,
        )
        yearly = MINISTRY_INDICATORS[code][5] // 6
        for start, end in _years():
            services.target_set(actor=admin, indicator=indicator, period_start=start, period_end=end, value=yearly)
        objectives[code], indicators[code] = objective, indicator
    services.version_publish(actor=admin, version=version)
    return {"plan": plan, "objectives": objectives, "indicators": indicators}


def seed_plans(*, ministry, ministry_admin, charities, projects, say: Callable[[str], None] = lambda line: None):
    """The plans in force and the links of the (draft) projects: `charities` is [(organisation, its admin)],
    `projects` [(project, its charity's admin)]. Returns a summary."""
    if ministry is None or ministry_admin is None:
        return {}
    ministry_plan = _ministry_plan(ministry, ministry_admin)
    codes_by_charity: dict[int, list[str]] = {}
    for project, _admin in projects:
        code = objective_for_sector(project.sector)
        codes = codes_by_charity.setdefault(project.charity_id, [])
        if code not in codes:
            codes.append(code)
    plans = {}
    for charity, admin in charities:
        codes = sorted(codes_by_charity.get(charity.pk) or ["P3.2", "P3.3"])
        plans[charity.pk] = _charity_plan(charity, admin, ministry_plan, codes)
    linked = indicators = 0
    for project, admin in projects:
        plan = plans.get(project.charity_id)
        if plan is None:
            continue
        code = objective_for_sector(project.sector)
        try:
            services.project_objectives_set(actor=admin, project=project, objectives=[plan["objectives"][code]])
            linked += 1
            services.indicator_create(
                actor=admin,
                project=project,
                code="REACHED",
                name_ar="عدد المستفيدين الذين وصلهم المشروع",
                name_en="People the project reached",
                unit=Unit.PEOPLE,
                aggregation=Aggregation.SUM,
                baseline="0",
                feeds=plan["indicators"][code],
            )
            indicators += 1
        except DomainError as exc:
            say(f"  {project.reference}: not linked to the plan: {exc.message}")
    return {
        "plans": 1 + len(plans),
        "objectives": len(MINISTRY_OBJECTIVES),
        "linked": linked,
        "indicators": indicators,
    }


def seed_indicator_values(*, projects, reviewer, say: Callable[[str], None] = lambda line: None) -> dict:
    """Progress reports with indicator values for the licensed projects: `projects` is [(project, its charity's
    admin)]. The first report of each is accepted by the ministry, the second submitted (pending)."""
    from shafaf.projects.choices import LICENSED_STATUSES
    from shafaf.reports import services as reports
    from shafaf.reports.selectors import open_periods

    accepted = pending = 0
    for index, (project, admin) in enumerate(projects):
        project.refresh_from_db()
        if project.status not in LICENSED_STATUSES or not project.indicators.filter(code="REACHED").exists():
            continue
        periods = open_periods(project)[:2]
        share = max(1, (project.beneficiary_count or 100) * 3 // 10)
        try:
            for number, period in enumerate(periods):
                value = share + (index * 37 + number * 11) % max(1, share // 5 or 1)
                report = reports.report_create(
                    actor=admin,
                    project=project,
                    period_start=period["period_start"],
                    narrative_ar="تقدم العمل وفق الخطة، ووصل المشروع إلى المستفيدين المذكورين في مؤشراته.",
                    narrative_en="Work went to plan; the project reached the people its indicator states.",
                    indicator_values={"REACHED": str(value)},
                )
                report = reports.report_submit(actor=admin, report=report)
                if number == 0 and reviewer is not None:
                    reports.report_accept(actor=reviewer, report=report, comment="")
                    accepted += 1
                else:
                    pending += 1
        except DomainError as exc:
            say(f"  {project.reference}: no demo report: {exc.message}")
    return {"accepted": accepted, "pending": pending, "at": timezone.now().isoformat()}
