"""Foreign implementing partners for the demo, from the IATI participating-organisations registry.

The registry (`registries/iati_participating_orgs_from_dportal_covid.csv`) lists the organisations
named in the d-portal COVID corpus, with their IATI identifier where one is known and the roles they
play (`4:123` = implementing in 123 activities). Only implementers with a registered identifier that
are non-governmental or multilateral are kept. No Django here.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# IATI organisation types kept as partners: NGOs (21-24), multilaterals (40), foundations (60), and
# organisations that did not say. Governments (10, 11, 15), companies (70, 71), universities (80) are left out.
PARTNER_ORG_TYPES = frozenset({"21", "22", "23", "24", "40", "60", ""})
# DAC channel codes that name a category of organisation ("NGO based in a donor country"), not one.
GENERIC_REFS = frozenset({"XM-DAC-21000", "XM-DAC-22000", "XM-DAC-23000", "XM-DAC-41000", "XM-DAC-47000"})
_ORG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/ -]*$")  # as Organization.iati_org_id accepts

# The Arabic names under which the best-known partners work in the Arab world, and a readable English
# name where the registry has only a shouted or non-English one. Keyed by IATI organisation identifier.
KNOWN_NAMES: dict[str, tuple[str, str]] = {
    "XM-DAC-41114": ("برنامج الأمم المتحدة الإنمائي", "United Nations Development Programme (UNDP)"),
    "XM-DAC-928": ("منظمة الصحة العالمية", "World Health Organization (WHO)"),
    "XM-DAC-41301": ("منظمة الأغذية والزراعة للأمم المتحدة (الفاو)", "Food and Agriculture Organization (FAO)"),
    "XM-DAC-41122": ("منظمة الأمم المتحدة للطفولة (يونيسف)", "UNICEF"),
    "XM-DAC-41140": ("برنامج الأغذية العالمي", "World Food Programme (WFP)"),
    "XM-DAC-41121": ("المفوضية السامية للأمم المتحدة لشؤون اللاجئين", "UNHCR, the UN Refugee Agency"),
    "XM-DAC-47066": ("المنظمة الدولية للهجرة", "International Organization for Migration (IOM)"),
    "XM-DAC-21018": (
        "الاتحاد الدولي لجمعيات الصليب الأحمر والهلال الأحمر",
        "International Federation of Red Cross and Red Crescent Societies (IFRC)",
    ),
    "XM-DAC-21016": ("اللجنة الدولية للصليب الأحمر", "International Committee of the Red Cross (ICRC)"),
    "XM-DAC-41123": (
        "منظمة الأمم المتحدة للتنمية الصناعية (يونيدو)",
        "United Nations Industrial Development Organization",
    ),
    "XM-DAC-41127": (
        "مكتب الأمم المتحدة لتنسيق الشؤون الإنسانية (أوتشا)",
        "UN Office for the Coordination of Humanitarian Affairs (OCHA)",
    ),
    "XM-DAC-41146": ("هيئة الأمم المتحدة للمرأة", "UN Women"),
    "XM-DAC-41130": (
        "وكالة الأمم المتحدة لإغاثة وتشغيل اللاجئين الفلسطينيين (الأونروا)",
        "United Nations Relief and Works Agency (UNRWA)",
    ),
    "XM-DAC-41119": ("صندوق الأمم المتحدة للسكان", "United Nations Population Fund (UNFPA)"),
    "XM-DAC-47501": ("الشراكة العالمية من أجل التعليم", "Global Partnership for Education"),
    "XM-OCHA-FTS": (
        "مكتب الأمم المتحدة لتنسيق الشؤون الإنسانية (أوتشا)",
        "UN Office for the Coordination of Humanitarian Affairs (OCHA)",
    ),
    "NL-KVK-27108436": ("أوكسفام نوفيب", "Oxfam Novib"),
    "GB-CHC-202918": ("أوكسفام بريطانيا", "Oxfam GB"),
    "AU-ACNC-18055208636": ("أوكسفام أستراليا", "Oxfam Australia"),
    "BE-BCE_KBO-0408643875": ("أوكسفام التضامن (بلجيكا)", "Oxfam-Solidarité (Belgium)"),
    "GB-CHC-1076822": ("منظمة إنقاذ الطفل الدولية", "Save the Children International"),
    "NL-KVK-41201463": ("منظمة إنقاذ الطفل - هولندا", "Save the Children Netherlands"),
    "GB-COH-213890": ("منظمة إنقاذ الطفل - المملكة المتحدة", "Save the Children UK"),
    "NO-BRC-977538319": ("المجلس النرويجي للاجئين", "Norwegian Refugee Council"),
    "DK-CVR-20699310": ("المجلس الدنماركي للاجئين", "Danish Refugee Council"),
    "GB-COH-1762840": ("هيلب إيج الدولية", "HelpAge International"),
    "NL-KVK-41160054": ("كورديد", "Cordaid"),
    "GB-CHC-292506": ("كير الدولية - المملكة المتحدة", "CARE International UK"),
    "NL-KVK-41158230": ("كير هولندا", "CARE Nederland"),
    "CA-CRA_ACR-0010011116": ("كير كندا", "CARE Canada"),
    "IE-CHY-20009090": ("كونسيرن العالمية", "Concern Worldwide"),
    "US-EIN-52-1314847": ("الوكالة الأدفنتستية للتنمية والإغاثة (أدرا)", "ADRA International"),
    "NL-KVK-40409352": ("الصليب الأحمر الهولندي", "The Netherlands Red Cross"),
    "DK-CVR-20700211": ("الصليب الأحمر الدنماركي", "Danish Red Cross"),
    "GB-CHC-220949": ("الصليب الأحمر البريطاني", "British Red Cross"),
    "GB-CHC-1107403": ("منظمة غول", "GOAL"),
    "NL-KVK-41149287": ("أرض البشر - هولندا", "Terre des Hommes Netherlands"),
    "CH-FDJP-CHE-106823242": ("مؤسسة أرض البشر", "Terre des hommes Foundation"),
    "NL-KVK-41198890": ("بلان الدولية - هولندا", "Plan International Netherlands"),
    "GB-COH-1364201": ("بلان الدولية - المملكة المتحدة", "Plan International UK"),
    "US-EIN-95-3202116": ("الرؤية العالمية الدولية", "World Vision International"),
    "NL-KVK-41179943": ("الرؤية العالمية - هولندا", "World Vision Netherlands"),
    "NL-KVK-41215393": ("وور تشايلد هولندا", "War Child Holland"),
    "GB-CHC-1071659": ("وور تشايلد - المملكة المتحدة", "War Child UK"),
    "FR-INSEE-32101874900127": ("أطباء العالم", "Médecins du Monde"),
    "BE-BCE_KBO-0460162753": ("أطباء العالم - بلجيكا", "Médecins du Monde Belgium"),
    "NL-KVK-41197577": ("قرى الأطفال SOS - هولندا", "SOS Children's Villages The Netherlands"),
    "GB-CHC-1093861": ("الهيئة الطبية الدولية - المملكة المتحدة", "International Medical Corps UK"),
    "US-EIN-95-4402149": ("منظمة الحياة للإغاثة والتنمية", "Life for Relief and Development"),
    "GB-CHC-328158": ("الإغاثة الإسلامية عبر العالم", "Islamic Relief Worldwide"),
    "GB-CHC-1047501": ("منظمة العمل ضد الجوع - المملكة المتحدة", "Action Against Hunger UK"),
    "FR-RCS-31899089200065": ("منظمة العمل ضد الجوع", "Action Contre la Faim"),
    "GB-CHC-1098106": ("الإغاثة الدولية - المملكة المتحدة", "Relief International UK"),
    "US-EIN-13-5660870": ("لجنة الإنقاذ الدولية", "International Rescue Committee"),
    "GB-SC-SC030289": ("ميرسي كوربس أوروبا", "Mercy Corps Europe"),
    "FR-RCS-519655997": ("منظمة الإنسانية والإدماج (هانديكاب إنترناشونال)", "Handicap International Federation"),
    "GB-CHC-1082565": ("هانديكاب إنترناشونال - المملكة المتحدة", "Handicap International UK"),
    "DE-CR-RA000220-VR3810": ("المساعدة الألمانية لمكافحة الجوع", "Deutsche Welthungerhilfe"),
    "GB-CHC-1076235": ("بي بي سي ميديا أكشن", "BBC Media Action"),
    "DK-CVR-36980214": ("مساعدات الكنيسة الدنماركية", "DanChurchAid"),
    "DK-CVR-20074035": ("أدرا الدنمارك", "ADRA Denmark"),
    "NL-KVK-41009723": ("منظمة زوا", "ZOA"),
    "NL-KVK-41236410": ("دوركاس للإغاثة الدولية", "Dorcas Aid International"),
    "GB-CHC-285776": ("الوكالة الكاثوليكية للتنمية فيما وراء البحار (كافود)", "CAFOD"),
    "GB-CHC-274467": ("أكشن إيد - المملكة المتحدة", "ActionAid UK"),
    "BD-NAB-0210": ("أكشن إيد بنغلاديش", "ActionAid Bangladesh"),
    "KE-NCB-OP-218-051-924-84": ("أكشن إيد كينيا", "ActionAid International Kenya"),
    "JO-CCD-2826": ("الرؤية العالمية - سوريا", "World Vision Syria"),
    "ET-MFA-0001989741": ("أمريف للصحة في أفريقيا - إثيوبيا", "Amref Health Africa in Ethiopia"),
    "GB-COH-871954": ("براكتيكال أكشن", "Practical Action"),
    "XM-DAC-47059": ("المنظمة الدولية لقانون التنمية", "International Development Law Organization (IDLO)"),
    "XM-DAC-41110": (
        "برنامج الأمم المتحدة المشترك المعني بفيروس نقص المناعة البشرية (الإيدز)",
        "Joint United Nations Programme on HIV/AIDS (UNAIDS)",
    ),
    "CA-CRA_ACR-0010011149": ("بلان الدولية - كندا", "Plan International Canada"),
    "IE-CHY-15037": ("بلان الدولية - أيرلندا", "Plan International Ireland"),
    "XI-IATI-CWSEC": ("أمانة الكومنولث", "The Commonwealth Secretariat"),
    "NL-KVK-41149486": ("مؤسسة اللاجئين (هولندا)", "Stichting Vluchteling (Refugee Foundation)"),
}


@dataclass(frozen=True)
class PartnerCandidate:
    ref: str
    name_en: str
    name_ar: str
    org_type: str
    implementing_count: int
    countries: tuple[str, ...]
    country: str  # where it is registered, from the identifier's prefix ("GB-CHC-…" -> GB); "" for XM/XI

    @property
    def key(self) -> str:
        return normalise_ref(self.ref)


def normalise_ref(ref: str) -> str:
    """Publishers write the same identifier with and without inner hyphens: compare without them."""
    return re.sub(r"[^A-Z0-9]", "", (ref or "").upper())


def _implementing_count(roles: str) -> int:
    for part in (roles or "").split():
        role, _sep, count = part.partition(":")
        if role == "4" and count.isdigit():
            return int(count)
    return 0


def _readable(name: str) -> str:
    name = " ".join((name or "").split())
    if name.isupper() and len(name) > 12:
        # "NORWEGIAN REFUGEE COUNCIL (NOR)" -> "Norwegian Refugee Council (NOR)"
        words = [w if (w.startswith("(") and len(w) <= 6) else w.capitalize() for w in name.split()]
        name = " ".join(words)
    return name.strip(" ,")


def read_partner_candidates(path: str | Path, known_countries: Iterable[str] = ()) -> list[PartnerCandidate]:
    """The registry's usable implementers, the most active first; one per name."""
    known = set(known_countries)
    best: dict[str, PartnerCandidate] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            ref = (row.get("ref") or "").strip()
            count = _implementing_count(row.get("roles", ""))
            org_type = (row.get("org_type") or "").strip()
            name = row.get("name") or ""
            if (
                not count
                or not (row.get("registration_agency") or "").strip()
                or org_type not in PARTNER_ORG_TYPES
                or ref in GENERIC_REFS
                or not _ORG_ID.match(ref)
                or len(ref) > 120
                or "\ufffd" in name
                or name.upper().startswith("ONG ")
            ):
                continue
            name_ar, name_en = KNOWN_NAMES.get(ref, ("", ""))
            name_en = (name_en or _readable(name))[:300]
            if not name_en:
                continue
            prefix = ref[:2].upper()
            candidate = PartnerCandidate(
                ref=ref,
                name_en=name_en,
                name_ar=(name_ar or name_en)[:300],
                org_type=org_type,
                implementing_count=count,
                countries=tuple(c for c in (row.get("top_countries") or "").split() if len(c) == 2),
                country=prefix if prefix in known and prefix not in {"XM", "XI"} else "",
            )
            name_key = name_en.casefold()
            if name_key not in best or best[name_key].implementing_count < count:
                best[name_key] = candidate
    return sorted(best.values(), key=lambda c: (-c.implementing_count, c.ref))


def choose_partners(
    candidates: list[PartnerCandidate], wanted_refs: Iterable[str], *, minimum: int = 40, maximum: int = 60
) -> list[PartnerCandidate]:
    """The partners the activities name as implementers (up to `maximum`), topped up with the most
    active implementers to `minimum`."""
    by_key = {c.key: c for c in candidates}
    chosen: dict[str, PartnerCandidate] = {}
    for ref in wanted_refs:
        candidate = by_key.get(normalise_ref(ref))
        if candidate is not None and len(chosen) < maximum:
            chosen.setdefault(candidate.key, candidate)
    for candidate in candidates:
        if len(chosen) >= minimum:
            break
        chosen.setdefault(candidate.key, candidate)
    return sorted(chosen.values(), key=lambda c: (-c.implementing_count, c.ref))
