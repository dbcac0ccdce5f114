"""The hand-made part of the demo world: the authorities, the Kuwaiti charities, a donor organisation,
an audit office, the demo logins, and a few bilingual projects used when the shared IATI data is absent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from shafaf.accounts.choices import Authority, OrganizationKind, Role

from ..choices import BeneficiaryGroup, ProjectModel
from .partners import KNOWN_NAMES, PartnerCandidate

DEMO_PASSWORD = "demo"  # noqa: S105 - the documented password of the demo logins
EMAIL_DOMAIN = "shafaf.example"


@dataclass(frozen=True)
class OrgSpec:
    key: str
    kind: str
    slug: str
    name_ar: str
    name_en: str
    authority_code: str = ""
    mosa_licence_number: str = ""
    country: str = "KW"


AUTHORITIES = (
    OrgSpec(
        "mosa",
        OrganizationKind.AUTHORITY,
        "mosa",
        "وزارة الشؤون الاجتماعية",
        "Ministry of Social Affairs",
        authority_code=Authority.MOSA,
    ),
    OrgSpec(
        "mofa",
        OrganizationKind.AUTHORITY,
        "mofa",
        "وزارة الخارجية",
        "Ministry of Foreign Affairs",
        authority_code=Authority.MOFA,
    ),
)
# The first charity is najat's, the second rahma's (the personas of DESIGN.md §5.8).
CHARITIES = (
    OrgSpec(
        "najat",
        OrganizationKind.CHARITY,
        "al-najat",
        "جمعية النجاة الخيرية",
        "Al-Najat Charity Society",
        mosa_licence_number="MOSA-CH-0031",
    ),
    OrgSpec(
        "rahma",
        OrganizationKind.CHARITY,
        "rahma-international",
        "الرحمة العالمية",
        "Rahma International",
        mosa_licence_number="MOSA-CH-0024",
    ),
    OrgSpec(
        "direct_aid",
        OrganizationKind.CHARITY,
        "direct-aid",
        "العون المباشر",
        "Direct Aid",
        mosa_licence_number="MOSA-CH-0017",
    ),
    OrgSpec(
        "namaa",
        OrganizationKind.CHARITY,
        "namaa",
        "نماء الخيرية",
        "Namaa Charity",
        mosa_licence_number="MOSA-CH-0042",
    ),
    OrgSpec(
        "islah",
        OrganizationKind.CHARITY,
        "social-reform-society",
        "جمعية الإصلاح الاجتماعي",
        "Social Reform Society",
        mosa_licence_number="MOSA-CH-0003",
    ),
    OrgSpec(
        "iico",
        OrganizationKind.CHARITY,
        "iico",
        "الهيئة الخيرية الإسلامية العالمية",
        "International Islamic Charitable Organization",
        mosa_licence_number="MOSA-CH-0011",
    ),
)
# Which charity gets each project, in turn: najat and rahma a quarter each, the others an eighth.
CHARITY_ROTATION = ("najat", "rahma", "direct_aid", "najat", "rahma", "namaa", "islah", "iico")
OTHERS = (
    OrgSpec(
        "donor_org",
        OrganizationKind.DONOR_ORGANIZATION,
        "al-waha-group",
        "مجموعة الواحة التجارية",
        "Al-Waha Trading Group",
    ),
    OrgSpec(
        "audit_office",
        OrganizationKind.AUDIT_OFFICE,
        "state-audit-bureau",
        "ديوان المحاسبة",
        "State Audit Bureau",
    ),
)


@dataclass(frozen=True)
class UserSpec:
    username: str
    first_name: str
    last_name: str
    organization: str  # an OrgSpec key, or "partner" for the partner chosen after the projects are made
    role: str


USERS = (
    UserSpec("mosa_admin", "خالد", "المطيري", "mosa", Role.MINISTRY_ADMIN),
    UserSpec("reviewer", "فاطمة", "العنزي", "mosa", Role.MINISTRY_REVIEWER),
    UserSpec("mofa_officer", "عبدالله", "الرشيدي", "mofa", Role.ACCREDITATION_OFFICER),
    UserSpec("mosa_officer", "هيا", "الصباح", "mosa", Role.ACCREDITATION_OFFICER),
    UserSpec("najat", "نجاة", "الكندري", "najat", Role.CHARITY_ADMIN),
    UserSpec("rahma", "رحمة", "الشمري", "rahma", Role.CHARITY_ADMIN),
    UserSpec("direct_aid", "بدر", "العجمي", "direct_aid", Role.CHARITY_ADMIN),
    UserSpec("namaa", "سارة", "الهاجري", "namaa", Role.CHARITY_ADMIN),
    UserSpec("islah", "أحمد", "الفضلي", "islah", Role.CHARITY_ADMIN),
    UserSpec("iico", "منيرة", "العتيبي", "iico", Role.CHARITY_ADMIN),
    UserSpec("donor", "يوسف", "البدر", "donor_org", Role.DONOR),
    UserSpec("auditor", "مريم", "العلي", "audit_office", Role.AUDITOR),
    UserSpec("partner", "سامر", "حداد", "partner", Role.PARTNER_REPORTER),
)
DEMO_USERNAMES = tuple(user.username for user in USERS)


# --- used when the shared data is absent -----------------------------------------------------------

FALLBACK_PARTNER_REFS = (
    ("GB-CHC-328158", "GB", ("SD", "TD", "KE", "YE", "SY")),
    ("XM-DAC-41122", "", ("PK", "YE", "SY")),
    ("XM-DAC-41140", "", ("YE", "SD", "SO")),
    ("XM-DAC-41121", "", ("LB", "JO", "SY")),
    ("XM-DAC-21018", "", ("MA", "JO", "YE")),
    ("NO-BRC-977538319", "NO", ("SO", "LB", "AF")),
    ("GB-CHC-1076822", "GB", ("SY", "YE", "SO")),
    ("XM-DAC-928", "", ("AF", "YE", "SD")),
)


def fallback_partners() -> list[PartnerCandidate]:
    partners = []
    for ref, country, countries in FALLBACK_PARTNER_REFS:
        name_ar, name_en = KNOWN_NAMES[ref]
        partners.append(
            PartnerCandidate(
                ref=ref,
                name_en=name_en,
                name_ar=name_ar,
                org_type="",
                implementing_count=0,
                countries=countries,
                country=country,
            )
        )
    return partners


def _loc(name_ar: str, name_en: str, latitude: str, longitude: str) -> dict:
    return {
        "admin_area_ar": name_ar,
        "admin_area_en": name_en,
        "latitude": Decimal(latitude),
        "longitude": Decimal(longitude),
    }


@dataclass(frozen=True)
class FallbackProject:
    fields: dict
    locations: tuple[dict, ...]
    partner_ref: str = ""  # "" lets the seed choose among the partners working in the country


def _project(
    title_ar,
    title_en,
    description_ar,
    description_en,
    *,
    model,
    sector,
    country,
    group,
    count,
    start,
    months,
    locations,
    partner="",
    currency="KWD",
):
    planned_start = dt.date.fromisoformat(start)
    year, month = divmod(planned_start.month - 1 + months, 12)
    planned_end = dt.date(planned_start.year + year, month + 1, 1) - dt.timedelta(days=1)
    return FallbackProject(
        fields={
            "title_ar": title_ar,
            "title_en": title_en,
            "description_ar": description_ar,
            "description_en": description_en,
            "project_model": model,
            "sector": sector,
            "country": country,
            "beneficiary_group": group,
            "beneficiary_count": count,
            "planned_start": planned_start,
            "planned_end": planned_end,
            "currency": currency,
        },
        locations=tuple(locations),
        partner_ref=partner,
    )


FALLBACK_PROJECTS = (
    _project(
        "حفر عشر آبار ارتوازية في قرى ولاية النيل الأبيض",
        "Drilling ten artesian wells in villages of White Nile State",
        "حفر عشر آبار ارتوازية مزودة بمضخات تعمل بالطاقة الشمسية وخزانات علوية، لتوفير مياه شرب نظيفة "
        "لنحو ستة آلاف نسمة يقطعون اليوم مسافات طويلة لجلب الماء، مع تدريب لجان محلية على صيانة الآبار.",
        "Ten artesian wells with solar-powered pumps and raised tanks, bringing clean drinking water to about "
        "6,000 people who now walk long distances to fetch it; local committees are trained to maintain the wells.",
        model=ProjectModel.CONSTRUCTION_EXTERNAL,
        sector="14031",
        country="SD",
        group=BeneficiaryGroup.COMMUNITY,
        count=6000,
        start="2026-09-01",
        months=10,
        locations=[
            _loc("كوستي", "Kosti", "13.162900", "32.663500"),
            _loc("الدويم", "Ed Dueim", "13.995600", "32.310800"),
        ],
        partner="GB-CHC-328158",
    ),
    _project(
        "كفالة ألف يتيم في مخيمات الشمال السوري",
        "Sponsoring 1,000 orphans in the camps of northern Syria",
        "كفالة شهرية لألف يتيم وأسرهم تشمل مخصصاً مالياً ومتابعة تعليمية وصحية منتظمة، بالتنسيق مع الشريك "
        "المنفذ الذي يرفع تقارير دورية عن حال كل يتيم.",
        "A monthly sponsorship for 1,000 orphans and their families: a cash allowance with regular school and "
        "health follow-up, coordinated with the implementing partner, which reports periodically on each child.",
        model=ProjectModel.SPONSORSHIP_EXTERNAL,
        sector="16010",
        country="SY",
        group=BeneficiaryGroup.ORPHANS,
        count=1000,
        start="2026-07-01",
        months=12,
        locations=[
            _loc("إدلب", "Idlib", "35.930600", "36.633900"),
            _loc("أعزاز", "Azaz", "36.586600", "37.046300"),
        ],
        partner="GB-CHC-1076822",
    ),
    _project(
        "بناء مدرسة ابتدائية من ثمانية فصول في إقليم السند",
        "Building an eight-classroom primary school in Sindh",
        "بناء مدرسة ابتدائية تضم ثمانية فصول ودورات مياه منفصلة للبنين والبنات، وتجهيزها بالأثاث والوسائل "
        "التعليمية، في منطقة تضررت مدارسها من فيضانات عام ٢٠٢٢.",
        "An eight-classroom primary school with separate toilets for boys and girls, furnished and equipped, "
        "in an area whose schools were damaged by the 2022 floods.",
        model=ProjectModel.CONSTRUCTION_EXTERNAL,
        sector="11120",
        country="PK",
        group=BeneficiaryGroup.STUDENTS,
        count=450,
        start="2026-10-01",
        months=14,
        locations=[_loc("ثاتا", "Thatta", "24.747500", "67.923900")],
        partner="XM-DAC-41122",
    ),
    _project(
        "توزيع سلال غذائية على الأسر المتعففة في تعز",
        "Food baskets for families in need in Taiz",
        "توزيع ثلاثة آلاف سلة غذائية تكفي كل منها أسرة لمدة شهر (دقيق وأرز وزيت وسكر وبقوليات)، على الأسر "
        "الأشد حاجة وفق كشوف يعدها الشريك المنفذ ويتحقق منها مندوب الجمعية.",
        "3,000 food baskets, each feeding a family for a month (flour, rice, oil, sugar and pulses), for the "
        "neediest families on lists drawn up by the implementing partner and checked by the charity's representative.",
        model=ProjectModel.RELIEF_CAMPAIGN_EXTERNAL,
        sector="72040",
        country="YE",
        group=BeneficiaryGroup.FAMILIES,
        count=3000,
        start="2026-06-01",
        months=3,
        locations=[_loc("تعز", "Taiz", "13.579500", "44.020900")],
        partner="XM-DAC-41140",
    ),
    _project(
        "حملة الشتاء الدافئ للاجئين في عرسال",
        "Warm winter campaign for refugees in Arsal",
        "توزيع بطانيات ومدافئ ووقود تدفئة وملابس شتوية على ألفين وخمسمئة لاجئ في مخيمات عرسال قبل موسم "
        "الثلوج، مع عزل الخيام الأكثر تضرراً.",
        "Blankets, heaters, heating fuel and winter clothes for 2,500 refugees in the Arsal camps before the "
        "snow season, and insulation for the worst-damaged tents.",
        model=ProjectModel.RELIEF_CAMPAIGN_EXTERNAL,
        sector="72010",
        country="LB",
        group=BeneficiaryGroup.REFUGEES,
        count=2500,
        start="2026-11-01",
        months=4,
        locations=[_loc("عرسال", "Arsal", "34.179400", "36.420300")],
        partner="XM-DAC-41121",
    ),
    _project(
        "مخيم طبي لعلاج أمراض العيون وإجراء عمليات المياه البيضاء في أبشي",
        "Eye camp with cataract operations in Abéché",
        "مخيم طبي يستمر أسبوعين يفحص فيه فريق من أطباء العيون أربعة آلاف مريض، ويجري ستمئة عملية لإزالة "
        "المياه البيضاء، ويوزع النظارات الطبية والأدوية مجاناً.",
        "A two-week eye camp in which a team of ophthalmologists examines 4,000 patients, performs 600 cataract "
        "operations and hands out glasses and medicines free of charge.",
        model=ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL,
        sector="12191",
        country="TD",
        group=BeneficiaryGroup.PATIENTS,
        count=4000,
        start="2027-01-01",
        months=2,
        locations=[_loc("أبشي", "Abéché", "13.829200", "20.832400")],
        partner="GB-CHC-328158",
    ),
    _project(
        "كفالة مئتي طالب جامعي من الأسر محدودة الدخل في ممباسا",
        "Sponsoring 200 university students from low-income families in Mombasa",
        "تغطية الرسوم الدراسية والسكن والكتب لمئتي طالب وطالبة متفوقين من أسر محدودة الدخل طوال سنوات "
        "دراستهم الجامعية، بشرط المحافظة على معدل دراسي جيد.",
        "Tuition, housing and books for 200 high-achieving students from low-income families throughout their "
        "university studies, on condition that they keep good grades.",
        model=ProjectModel.SPONSORSHIP_EXTERNAL,
        sector="11420",
        country="KE",
        group=BeneficiaryGroup.STUDENTS,
        count=200,
        start="2026-09-01",
        months=48,
        locations=[_loc("ممباسا", "Mombasa", "-4.043500", "39.668200")],
        partner="GB-CHC-328158",
    ),
    _project(
        "تمكين الأرامل اقتصادياً: مشاغل خياطة في الزرقاء",
        "Economic empowerment of widows: sewing workshops in Zarqa",
        "تدريب مئة وعشرين أرملة على الخياطة وإدارة المشاريع الصغيرة، وتزويد كل متدربة بماكينة خياطة "
        "ومستلزمات البدء، لتعيل أسرتها من عمل منزلي مستدام.",
        "Training 120 widows in sewing and small-business management and giving each a sewing machine and "
        "starter supplies, so that she can support her family from lasting home-based work.",
        model=ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL,
        sector="16020",
        country="JO",
        group=BeneficiaryGroup.WIDOWS,
        count=120,
        start="2026-08-01",
        months=9,
        locations=[_loc("الزرقاء", "Zarqa", "32.072800", "36.088000")],
        partner="XM-DAC-21018",
    ),
    _project(
        "إعادة بناء منازل متضررة من الزلزال في إقليم الحوز",
        "Rebuilding earthquake-damaged homes in Al Haouz province",
        "إعادة بناء مئة وخمسين منزلاً ريفياً هدمها زلزال سبتمبر ٢٠٢٣، وفق معايير مقاومة الزلازل وبمواد "
        "محلية، بمشاركة الأسر المستفيدة في أعمال البناء.",
        "Rebuilding 150 rural homes destroyed by the September 2023 earthquake to earthquake-resistant standards "
        "with local materials, with the families taking part in the work.",
        model=ProjectModel.CONSTRUCTION_EXTERNAL,
        sector="73010",
        country="MA",
        group=BeneficiaryGroup.FAMILIES,
        count=150,
        start="2026-07-01",
        months=18,
        locations=[_loc("أمزميز، إقليم الحوز", "Amizmiz, Al Haouz", "31.216700", "-8.233300")],
        partner="XM-DAC-21018",
    ),
    _project(
        "كفالة الأسر المتعففة في محافظة الجهراء",
        "Sponsoring families in need in Al Jahra Governorate",
        "مساعدات شهرية لثلاثمئة أسرة متعففة في محافظة الجهراء بعد دراسة حالتها الاجتماعية، تشمل مخصصاً "
        "نقدياً والمساعدة في سداد الإيجار وقسائم شراء للمواد الغذائية.",
        "Monthly assistance for 300 families in need in Al Jahra Governorate after a social assessment of each: "
        "a cash allowance, help with rent and food vouchers.",
        model=ProjectModel.SPONSORSHIP_INTERNAL,
        sector="16010",
        country="KW",
        group=BeneficiaryGroup.FAMILIES,
        count=300,
        start="2026-07-01",
        months=12,
        locations=[_loc("الجهراء", "Al Jahra", "29.337500", "47.658100")],
    ),
    _project(
        "أطراف صناعية وعلاج طبيعي لذوي الإعاقة في قندهار",
        "Prosthetic limbs and physiotherapy for people with disabilities in Kandahar",
        "تركيب أطراف صناعية لثلاثمئة وخمسين شخصاً من ذوي الإعاقة الحركية، بينهم ناجون من الألغام، مع جلسات "
        "علاج طبيعي وتأهيل تساعدهم على العودة إلى العمل والدراسة.",
        "Prosthetic limbs for 350 people with physical disabilities, among them landmine survivors, with "
        "physiotherapy and rehabilitation that help them back to work and school.",
        model=ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL,
        sector="12191",
        country="AF",
        group=BeneficiaryGroup.PEOPLE_WITH_DISABILITIES,
        count=350,
        start="2026-10-01",
        months=12,
        locations=[_loc("قندهار", "Kandahar", "31.628900", "65.737200")],
        partner="XM-DAC-928",
    ),
    _project(
        "تجهيز دار لرعاية المسنين في سراييفو",
        "Equipping a care home for the elderly in Sarajevo",
        "تجهيز دار لرعاية ثمانين مسناً بالأسرّة الطبية وأجهزة العلاج الطبيعي ومطبخ مركزي، وتمويل فريق تمريض لمدة عام.",
        "Medical beds, physiotherapy equipment and a central kitchen for a care home for 80 elderly people, "
        "and a nursing team for a year.",
        model=ProjectModel.SOCIAL_DEVELOPMENT_EXTERNAL,
        sector="16010",
        country="BA",
        group=BeneficiaryGroup.ELDERLY,
        count=80,
        start="2026-09-01",
        months=12,
        locations=[_loc("سراييفو", "Sarajevo", "43.856300", "18.413100")],
    ),
    _project(
        "خيام ومستلزمات إيواء للنازحين في بيدوا",
        "Tents and shelter kits for displaced families in Baidoa",
        "توزيع ثلاثمئة خيمة وحقائب إيواء تضم أغطية بلاستيكية وفرشاً وأدوات مطبخ على الأسر التي نزحت بسبب "
        "الجفاف إلى أطراف مدينة بيدوا.",
        "300 tents and shelter kits (plastic sheeting, mattresses and kitchen sets) for families displaced by "
        "drought to the outskirts of Baidoa.",
        model=ProjectModel.RELIEF_CAMPAIGN_EXTERNAL,
        sector="72010",
        country="SO",
        group=BeneficiaryGroup.REFUGEES,
        count=1800,
        start="2026-06-15",
        months=3,
        locations=[_loc("بيدوا", "Baidoa", "3.113800", "43.649800")],
        partner="NO-BRC-977538319",
    ),
)
