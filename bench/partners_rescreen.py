"""Re-screening every partner when a new list version is loaded, end to end through the database.

    .venv/bin/python bench/partners_rescreen.py [--partners 10000] [--with-ofac]

Builds N partners (bulk-inserted: real organisation names from ../shared/data/registries/, an Arabic name,
one alias and two officers each, names made from common Arabic given and family names, with nationality and
date of birth), loads the real UN list (and, with --with-ofac, the 2021 OFAC set) through the import service,
then times `screening.screen_all_partners` as the worker runs it after a list import: the index built from
the current versions, every name of every partner and officer screened, screenings and hits stored in bulk,
audited, and alerts raised for the affected projects. Prints the machine, the time, partners per second and
the hits found.
"""

import argparse
import csv
import datetime as dt
import random
import time

from _django import ROOT, setup

DATA = ROOT.parent / "shared" / "data"
GIVEN = ["Ahmad", "Sara", "Omar", "Layla", "Yousef", "Huda", "Khaled", "Nour", "Tariq", "Rana", "Karim", "Salma"]
GIVEN_AR = ["أحمد", "سارة", "عمر", "ليلى", "يوسف", "هدى", "خالد", "نور", "طارق", "رنا", "كريم", "سلمى"]
FAMILY = ["Haddad", "Mansour", "Issa", "Najjar", "Khatib", "Daoud", "Jaber", "Farah", "Awad", "Nasser"]
FAMILY_AR = ["حداد", "منصور", "عيسى", "النجار", "الخطيب", "داود", "جابر", "فرح", "عوض", "ناصر"]


def organisation_names() -> list[str]:
    names = []
    register = DATA / "registries" / "ccni_northern_ireland" / "ni-roc-2020-06-30.csv"
    with register.open(encoding="utf-8-sig", errors="replace") as f:
        names += [row["Charity name"].strip() for row in csv.DictReader(f) if row.get("Charity name", "").strip()]
    with (DATA / "registries" / "iati_participating_orgs_from_dportal_covid.csv").open(encoding="utf-8") as f:
        names += [row["name"].strip() for row in csv.DictReader(f) if row.get("name", "").strip()]
    return names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--with-ofac", action="store_true")
    args = parser.parse_args()
    machine = setup()

    from shafaf.accounts.models import Organization
    from shafaf.partners.models import Officer, PartnerName, ScreeningHit
    from shafaf.partners.sanctions import sanctions_import
    from shafaf.partners.screening import reset_index_cache, screen_all_partners

    rng = random.Random(7)
    names = organisation_names()
    started = time.perf_counter()
    partners = Organization.objects.bulk_create(
        [
            Organization(
                kind="partner",
                slug=f"bench-partner-{i}",
                name_en=names[i % len(names)][:300],
                name_ar=f"مؤسسة {rng.choice(FAMILY_AR)} {rng.choice(GIVEN_AR)} للإغاثة {i}",
                country=rng.choice(["SD", "YE", "JO", "LB", "SO", "KE", "TD", "BD"]),
            )
            for i in range(args.partners)
        ],
        batch_size=2000,
    )
    PartnerName.objects.bulk_create(
        [PartnerName(partner=p, kind="acronym", name=f"P{p.pk:05d}") for p in partners], batch_size=2000
    )
    officers = []
    for p in partners:
        for role in ("head", "signatory"):
            g, f = rng.randrange(len(GIVEN)), rng.randrange(len(FAMILY))
            officers.append(
                Officer(
                    partner=p,
                    role=role,
                    name_en=f"{GIVEN[g]} {FAMILY[f]}",
                    name_ar=f"{GIVEN_AR[g]} {FAMILY_AR[f]}",
                    nationality=p.country,
                    date_of_birth=dt.date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28)),
                )
            )
    Officer.objects.bulk_create(officers, batch_size=2000)
    print(f"machine: {machine}")
    print(f"{len(partners)} partners, {len(officers)} officers inserted in {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    version = sanctions_import(
        actor=None, source="un", path_or_file=DATA / "sanctions" / "un" / "UN_consolidated.xml", rescreen=False
    )
    lists = [f"UN ({version.entry_count} entries, {version.name_count} names)"]
    if args.with_ofac:
        ofac = sanctions_import(
            actor=None, source="ofac", path_or_file=DATA / "sanctions" / "ofac_sdn" / "bench_sdn.csv", rescreen=False
        )
        lists.append(f"OFAC ({ofac.entry_count} entries, {ofac.name_count} names)")
    print(f"lists loaded in {time.perf_counter() - started:.1f} s: {', '.join(lists)}")

    reset_index_cache()
    summary = screen_all_partners(actor=None, trigger="list_update")
    seconds = summary["seconds"]
    subjects = summary["screenings"]
    print(
        f"re-screened {summary['partners']} partners ({subjects} screenings of partners and officers) in "
        f"{seconds:.1f} s: {summary['partners'] / seconds:.0f} partners/s; "
        f"new hits {summary['new_hits']} on {ScreeningHit.objects.values('partner').distinct().count()} partners"
    )
    print(f"target: under 60 s for 10,000 partners -> {'met' if seconds < 60 * args.partners / 10_000 else 'NOT met'}")
    again = screen_all_partners(actor=None, trigger="list_update")
    print(f"second re-screen (decisions and hits found again): {again['seconds']:.1f} s, {again['new_hits']} new hits")


if __name__ == "__main__":
    main()
