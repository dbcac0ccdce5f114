"""Synthetic coordination records for tests and benchmarks of candidate retrieval.

    templates = load_templates()                    # the real IATI activities of ../shared/data/iati_activities
    gen = RecordGenerator(templates, seed=1)
    records = gen.records(100_000)                  # distinct projects in the contract's record shape
    twin = gen.resubmission(records[5], id=10**9)   # the same project resubmitted by another charity

Each project takes the text of a real activity (tokens as ``record.build_record`` writes them: ``c:`` concepts of
the bilingual lexicon, ``k:`` consonant skeletons, ``n:`` numbers), drops a quarter of it and adds what makes it a
project of its own: village names, numbers, a partner, a site, a budget, dates, beneficiaries. A resubmission
rewords the text or gives an Arabic version of it (concepts, numbers and names kept, other words replaced by their
Arabic skeletons), changes the budget up to 15 %, moves the dates up to six months and the site up to 3 km, changes
the beneficiaries up to 20 % and re-transliterates the partner's name (its id may change, its key mostly stays).
"""

from __future__ import annotations

import glob
import hashlib
import math
import os
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache

from shafaf.matching.generic import concept_of
from shafaf.matching.translit import latin_keys

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data", "iati_activities")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]+|\d+")
_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "from",
        "this",
        "that",
        "will",
        "are",
        "was",
        "were",
        "has",
        "have",
        "been",
        "their",
        "which",
        "into",
        "also",
        "such",
        "its",
        "our",
        "not",
        "les",
        "des",
        "pour",
        "dans",
        "par",
        "une",
        "sur",
        "aux",
        "est",
        "qui",
        "que",
        "avec",
    ]
)
_CONSONANTS = "bdfghjklmnqrstwyz"
_FILS_PER_UNIT = {"KWD": 1000.0, "USD": 305.0, "EUR": 330.0, "GBP": 385.0, "CHF": 345.0, "SEK": 29.0}


def blank_record(**fields) -> dict:
    """A record in the contract's shape with nothing known, then `fields`."""
    record = {
        "id": 0,
        "ref": "",
        "charity": 1,
        "status": "submitted",
        "partner": None,
        "partner_key": "",
        "country": "",
        "sector": "",
        "group": "",
        "beneficiaries": None,
        "budget_kwd": None,
        "start": None,
        "end": None,
        "lat": None,
        "lon": None,
        "areas": [],
        "text": [],
        "title": [],
        "quantities": [],
        "langs": [],
        "notes": [],
    }
    record.update(fields)
    return record


@lru_cache(maxsize=200_000)
def _token(word: str) -> str:
    if word.isdigit():
        return "n:" + str(int(word))
    norm = word.lower()
    if len(norm) <= 2 or norm in _STOP:
        return ""
    concept = concept_of(norm)
    if concept:
        return "c:" + concept
    keys = latin_keys(norm)
    return "k:" + keys[0] if keys else ""


def tokens_of(text: str) -> list[str]:
    return sorted({token for token in map(_token, _WORD.findall(text)) if token})[:400]


@dataclass
class Template:
    text: list[str]
    title: list[str]
    country: str
    sector: str
    budget_kwd: int | None
    start: int | None
    duration: int


def _narratives(element) -> str:
    if element is None:
        return ""
    return " ".join((n.text or "") for n in element.iter("narrative"))


def _days(iso: str | None) -> int | None:
    if not iso or len(iso) < 10:
        return None
    try:
        year, month, day = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    except ValueError:
        return None
    import datetime

    try:
        return (datetime.date(year, month, day) - datetime.date(1970, 1, 1)).days
    except ValueError:
        return None


@lru_cache(maxsize=1)
def load_templates(path: str = DATA, pattern: str = "*.xml") -> tuple[Template, ...]:
    """The real activities of the files ``pattern`` of ``path`` as record templates."""
    templates = []
    for name in sorted(glob.glob(os.path.join(path, pattern))):
        for _event, element in ET.iterparse(name):  # noqa: S314 - the project's own data files
            if element.tag != "iati-activity":
                continue
            title = _narratives(element.find("title"))
            text = title + " " + " ".join(_narratives(d) for d in element.findall("description"))
            country = next((c.get("code", "") for c in element.findall("recipient-country")), "")
            sector = next((s.get("code", "") for s in element.findall("sector") if s.get("vocabulary", "1") == "1"), "")
            budget = None
            value = element.find("budget/value")
            if value is not None and value.text:
                try:
                    amount = float(value.text)
                    rate = _FILS_PER_UNIT.get(value.get("currency") or element.get("default-currency") or "USD", 300)
                    budget = int(amount * rate) if amount > 0 else None
                except ValueError:
                    budget = None
            dates = {d.get("type"): _days(d.get("iso-date")) for d in element.findall("activity-date")}
            start = dates.get("2") or dates.get("1")
            end = dates.get("4") or dates.get("3")
            duration = end - start if start and end and end >= start else 365
            tokens = tokens_of(text)
            if tokens:
                templates.append(
                    Template(tokens, tokens_of(title), country.upper(), sector[:5], budget, start, duration)
                )
            element.clear()
    return tuple(templates)


def _pseudo(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_CONSONANTS) for _ in range(length))


def _arabic(token: str) -> str:
    """The skeleton of a word's Arabic translation (stable per word, unrelated to its Latin skeleton)."""
    digest = hashlib.blake2b(token.encode(), digest_size=4).digest()
    return "k:" + "".join(_CONSONANTS[b % len(_CONSONANTS)] for b in digest[:3]) + "a" * (digest[3] % 2)


@dataclass
class RecordGenerator:
    templates: tuple[Template, ...]
    seed: int = 0
    villages: int = 300_000
    partners: int = 30_000
    charities: int = 60
    _places: list[str] = field(default_factory=list, repr=False)
    _countries: list[str] = field(default_factory=list, repr=False)
    _centres: dict = field(default_factory=dict, repr=False)
    _place_lookup: frozenset = field(default_factory=frozenset, repr=False)

    def __post_init__(self):
        rng = random.Random(self.seed)
        self._places = [_pseudo(rng, rng.randint(3, 5)) for _ in range(self.villages)]
        self._place_lookup = frozenset(self._places)
        self._countries = [t.country or "YE" for t in self.templates]
        for country in sorted(set(self._countries)):
            self._centres[country] = (rng.uniform(-10, 40), rng.uniform(-15, 75))
        self._quantity = ["well", "classroom", "school", "clinic", "latrine", "shelter", "tank", "borehole"]

    def record(self, id: int) -> dict:
        rng = random.Random(self.seed * 1_000_003 + id)
        template = self.templates[rng.randrange(len(self.templates))]
        country = template.country if rng.random() < 0.8 else rng.choice(self._countries)
        country = country or "YE"
        keep = [t for t in template.text if rng.random() < 0.75]
        village = rng.randrange(self.villages)
        places = ["k:" + self._places[(village + i * 7919) % self.villages] for i in range(rng.randint(1, 3))]
        numbers = [f"n:{rng.randint(2, 5000)}" for _ in range(rng.randint(0, 3))]
        quantities = []
        if rng.random() < 0.5:
            concept = rng.choice(self._quantity)
            count = rng.randint(1, 40)
            quantities.append(f"{concept}:{count}")
            numbers.append(f"n:{count}")
            keep.append("c:" + concept)
        text = sorted(set(keep + places + numbers))[:400]
        title = sorted({t for t in template.title if t in text} | set(places[:1]))
        lat0, lon0 = self._centres[country]
        has_gps = rng.random() < 0.7
        lat = round(lat0 + rng.uniform(-4, 4) + (village % 97) / 500, 6) if has_gps else None
        lon = round(lon0 + rng.uniform(-4, 4) + (village % 89) / 500, 6) if has_gps else None
        budget = template.budget_kwd or int(math.exp(rng.uniform(math.log(3e6), math.log(3e9))))
        budget = max(1, int(budget * math.exp(rng.gauss(0, 1))))
        start = (template.start or 18000) + rng.randint(-1500, 1500)
        partner = rng.randrange(1, self.partners) if rng.random() < 0.8 else None
        return {
            "id": id,
            "ref": f"XM-SYN-{id}",
            "charity": rng.randrange(1, self.charities),
            "status": "submitted",
            "partner": partner,
            "partner_key": f"prt{partner}" if partner else "",
            "country": country,
            "sector": template.sector or "72010",
            "group": rng.choice(["", "refugees", "children", "women", "idp"]),
            "beneficiaries": int(math.exp(rng.uniform(math.log(50), math.log(200_000)))),
            "budget_kwd": budget,
            "start": start,
            "end": start + max(30, template.duration),
            "lat": lat,
            "lon": lon,
            "areas": sorted({f"area{country}{village % 400}"} | ({f"gov{country}{village % 20}"})),
            "text": text,
            "title": title,
            "quantities": quantities,
            "langs": ["en"],
            "notes": [],
        }

    def records(self, count: int, start: int = 1):
        return [self.record(i) for i in range(start, start + count)]

    def iter_records(self, count: int, start: int = 1):
        for i in range(start, start + count):
            yield self.record(i)

    def resubmission(self, original: dict, *, id: int, seed: int = 0) -> dict:
        rng = random.Random((self.seed + 7) * 1_000_033 + id * 31 + seed)
        text = original["text"]
        mode = rng.random()
        reworded = [t for t in text if rng.random() < 0.7] + [
            rng.choice(self.templates[rng.randrange(len(self.templates))].text) for _ in range(8)
        ]
        places = set(original["title"]) | {t for t in text if t[2:] in self._place_lookup}
        arabic = [t if t[:2] in ("c:", "n:") or t in places else _arabic(t) for t in text]
        if mode < 0.4:
            tokens, langs = arabic, ["ar"]
        elif mode < 0.7:
            tokens, langs = arabic + reworded, ["ar", "en"]
        else:
            tokens, langs = reworded, ["en"]
        tokens = sorted(set(tokens))[:400]
        record = dict(original)
        record.update(
            id=id,
            ref=f"XM-RESUB-{id}",
            charity=(original["charity"] % self.charities) + 1,
            text=tokens,
            title=sorted({t for t in tokens if t in original["title"] or rng.random() < 0.03}),
            langs=langs,
        )
        if original["budget_kwd"]:
            record["budget_kwd"] = max(1, round(original["budget_kwd"] * rng.uniform(0.85, 1.15) / 7) * 7)
        if original["start"] is not None:
            shift = rng.randint(-182, 182)
            record["start"], record["end"] = original["start"] + shift, original["end"] + shift
        if original["lat"] is not None:
            distance, bearing = rng.uniform(0, 3.0), rng.uniform(0, 2 * math.pi)
            record["lat"] = original["lat"] + distance / 111.0 * math.cos(bearing)
            record["lon"] = original["lon"] + distance / (111.0 * math.cos(math.radians(original["lat"]))) * math.sin(
                bearing
            )
        if original["beneficiaries"]:
            record["beneficiaries"] = max(1, round(original["beneficiaries"] * rng.uniform(0.8, 1.2)))
        if original["partner"] is not None:
            if rng.random() < 0.5:
                record["partner"] = original["partner"] + self.partners  # the same partner entered again
            if rng.random() < 0.15:
                record["partner_key"] = original["partner_key"] + "h"
        return record
