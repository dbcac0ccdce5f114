"""Builds shafaf/projects/data/codelists.json from the official IATI codelists.

Run from the project root: `.venv/bin/python scripts/build_codelists.py [../shared/data/iati/codelists]`.
Country and currency names in Arabic come from the CLDR data that Babel ships; sector and sector category
names in Arabic come from shafaf/projects/data/sectors_ar.json, which must cover every code.
"""

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from babel import Locale

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "shafaf" / "projects" / "data"
SOURCE = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "iati" / "codelists"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def items(name: str):
    for folder in ("embedded", "nonembedded"):
        path = SOURCE / folder / "xml" / f"{name}.xml"
        if path.exists():
            break
    root = ET.parse(path).getroot()
    for item in root.iter("codelist-item"):
        names = {}
        for narrative in item.find("name").findall("narrative"):
            names[narrative.get(XML_LANG, "en")] = (narrative.text or "").strip()
        category = item.findtext("category")
        yield {
            "code": item.findtext("code").strip(),
            "name_en": names.get("en", ""),
            "status": item.get("status", "active"),
            "category": category.strip() if category else None,
        }


def arabic_sector_names() -> tuple[dict[str, str], dict[str, str]]:
    data = json.loads((DATA / "sectors_ar.json").read_text(encoding="utf-8"))
    return data["sectors"], data["categories"]


def require(names: dict[str, str], code: str, kind: str) -> str:
    name = (names.get(code) or "").strip()
    if not name:
        raise SystemExit(f"sectors_ar.json: no Arabic name for {kind} {code!r}")
    return name


def main() -> None:
    arabic, english = Locale("ar"), Locale("en")
    countries = []
    for item in items("Country"):
        code = item["code"]
        countries.append(
            {
                "code": code,
                "name_en": english.territories.get(code) or item["name_en"].title(),
                "name_ar": arabic.territories.get(code) or item["name_en"].title(),
                "status": item["status"],
            }
        )
    currencies = [
        {
            "code": item["code"],
            "name_en": english.currencies.get(item["code"], item["name_en"]),
            "name_ar": arabic.currencies.get(item["code"], item["name_en"]),
            "status": item["status"],
        }
        for item in items("Currency")
    ]
    sector_names_ar, category_names_ar = arabic_sector_names()
    categories = {
        item["code"]: (item["name_en"], require(category_names_ar, item["code"], "sector category"))
        for item in items("SectorCategory")
    }
    sectors = []
    for item in items("Sector"):
        category = item["category"] or ""
        category_name_en, category_name_ar = categories.get(category, ("", ""))
        if category and not category_name_ar:
            raise SystemExit(f"Sector {item['code']}: unknown sector category {category!r}")
        sectors.append(
            {
                "code": item["code"],
                "name_en": item["name_en"],
                "name_ar": require(sector_names_ar, item["code"], "sector"),
                "category": item["category"],
                "category_name_en": category_name_en,
                "category_name_ar": category_name_ar,
                "status": item["status"],
            }
        )
    out = DATA / "codelists.json"
    out.write_text(
        json.dumps({"countries": countries, "currencies": currencies, "sectors": sectors}, ensure_ascii=False, indent=1)
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(countries)} countries, {len(currencies)} currencies, {len(sectors)} sectors -> {out}")


if __name__ == "__main__":
    main()
