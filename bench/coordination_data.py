"""The data of bench/coordination.py: real IATI activities turned into project records, resubmissions of them by
another charity, hard negatives, and the large synthetic corpora of the speed test.

Nothing here knows how coordination scores: the generator changes projects the way a charity resubmitting
another's project would (rewording, translating into Arabic, another currency, shifted dates, a moved site,
another spelling of the partner's name), and makes the look-alikes that are not the same project.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import random
import re
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "iati_activities"
CORPUS = DATA / "dportal_covid_humanitarian_mena_africa_asia.xml"
LINKED = DATA / "dportal_covid_linked_activities.xml"
GROUND_TRUTH = DATA / "pairs_ground_truth.jsonl"
RATES = ROOT / "shafaf" / "finance" / "data" / "rates.csv"
EPOCH = dt.date(1970, 1, 1)
KM_PER_DEGREE = 111.32

# --- exchange rates -------------------------------------------------------------------------------------------


class Rates:
    """KWD per unit of each currency by day, from shafaf/finance/data/rates.csv (the latest rate on or before a
    day; the first one for an earlier day)."""

    def __init__(self, path: Path = RATES):
        days: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                days[row["currency"]].append((dt.date.fromisoformat(row["date"]), Decimal(row["rate"])))
        self.days = {code: sorted(items) for code, items in days.items()}
        self.currencies = sorted(self.days)

    def rate(self, currency: str, on: dt.date) -> Decimal | None:
        if currency == "KWD":
            return Decimal(1)
        items = self.days.get(currency)
        if not items:
            return None
        index = bisect_right(items, (on, Decimal("Infinity"))) - 1
        return items[max(index, 0)][1]

    def to_fils(self, amount: Decimal, currency: str, on: dt.date) -> int | None:
        rate = self.rate(currency, on)
        if rate is None:
            return None
        return int(amount * rate * 1000)

    def from_fils(self, fils: int, currency: str, on: dt.date) -> Decimal | None:
        rate = self.rate(currency, on)
        if rate is None or rate == 0:
            return None
        return Decimal(fils) / 1000 / rate


# --- real activities as project fields ------------------------------------------------------------------------


def _date(raw: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((raw or "")[:10])
    except ValueError:
        return None


def _budget_fils(activity, rates: Rates) -> int | None:
    """The activity's original budgets (IATI type 1; revised ones when there are no originals), converted to fils
    of KWD at each value date."""
    budgets = [b for b in activity.budgets if b.type == "1"] or list(activity.budgets)
    total = 0
    for budget in budgets:
        try:
            value = Decimal(budget.value)
        except Exception:
            continue
        currency = budget.currency or activity.default_currency or "USD"
        on = _date(budget.value_date) or _date(budget.period_start) or dt.date(2020, 6, 1)
        fils = rates.to_fils(value, currency, on)
        if fils is not None and fils > 0:
            total += fils
    return total or None


def _partner(activity) -> str:
    """The name of the first implementing organisation (IATI role 4) other than the publisher."""
    for org in activity.participating_orgs:
        if org.role != "4" or org.ref == activity.reporting_org_ref:
            continue
        names = [n.text for n in org.names if n.text]
        if names:
            return names[0][:200]
    return ""


class Registry:
    """Ids for charities (one per publisher) and partner organisations (one per distinct name)."""

    def __init__(self, charities: int = 200):
        self.charities = charities
        self.publishers: dict[str, int] = {}
        self.partners: dict[str, int] = {}

    def charity_of(self, publisher: str) -> int:
        """Each publisher its own charity (charities beyond `charities` share the last ids)."""
        return min(self.publishers.setdefault(publisher, len(self.publishers) + 1), self.charities)

    def partner_id(self, name: str) -> int | None:
        if not name:
            return None
        key = re.sub(r"\W+", " ", name.casefold()).strip()
        return self.partners.setdefault(key, len(self.partners) + 1)

    def new_partner(self) -> int:
        """A partner organisation registered anew (another charity's entry for the same organisation)."""
        key = f"#new{len(self.partners) + 1}"
        return self.partners.setdefault(key, len(self.partners) + 1)


def _lenient_draft(activity):
    """A draft for an activity the demo mapping refuses (a country or sector outside the platform's lists, no
    dates): whatever it has, kept as published."""
    from shafaf.projects.demo.activities import ProjectDraft, _locations, _split, planned_dates

    title_ar, title_en = _split(activity.titles)
    description_ar, description_en = _split([n for _t, n in activity.descriptions])
    country = next((code for code, _pct in activity.recipient_countries if len(code) == 2), "")
    sector = next((code for voc, code, _pct in activity.sectors if voc == "1" and len(code) == 5), "")
    dates = planned_dates(activity.dates) or (None, None)
    fields = {
        "title_ar": title_ar[:300],
        "title_en": title_en[:300],
        "description_ar": description_ar[:4000],
        "description_en": description_en[:4000],
        "sector": sector,
        "country": country,
        "planned_start": dates[0],
        "planned_end": dates[1],
        "currency": activity.default_currency or "USD",
        "iati_identifier": activity.identifier,
    }
    return ProjectDraft(
        publisher=activity.reporting_org_ref or "?",
        fields=fields,
        locations=_locations(activity, country) if country else [],
        text=title_en,
    )


def project_of(activity, rates: Rates, registry: Registry, rng: random.Random, *, lenient: bool = False) -> dict | None:
    """The activity as a project: build_record's keyword arguments (less id, charity and status) plus what the
    generator needs ("publisher", "currency"). None when the activity is not a usable project (unless
    `lenient`: then whatever it has)."""
    from shafaf.projects.demo.activities import complete, draft_from_activity

    draft = draft_from_activity(activity)
    if draft is None:
        if not lenient:
            return None
        draft = _lenient_draft(activity)
    fields = complete(draft, rng)
    points, areas = [], []
    for location in draft.locations:
        if location.get("latitude") is not None and location.get("longitude") is not None:
            points.append((float(location["latitude"]), float(location["longitude"])))
        for name in (location.get("admin_area_en"), location.get("admin_area_ar")):
            if name and name not in areas:
                areas.append(name)
    partner_name = _partner(activity)
    return {
        "ref": activity.identifier,
        "publisher": draft.publisher,
        "title_ar": fields["title_ar"],
        "title_en": fields["title_en"],
        "description_ar": fields["description_ar"],
        "description_en": fields["description_en"],
        "partner": registry.partner_id(partner_name),
        "partner_name": partner_name,
        "country": fields["country"],
        "sector": fields["sector"],
        "group": fields["beneficiary_group"],
        "beneficiaries": fields["beneficiary_count"],
        "budget_kwd": _budget_fils(activity, rates),
        "start": fields["planned_start"],
        "end": fields["planned_end"],
        "points": points[:1],
        "areas": areas,
        "currency": fields.get("currency") or "USD",
    }


RECORD_ARGS = (
    "ref",
    "title_ar",
    "title_en",
    "description_ar",
    "description_en",
    "partner",
    "partner_name",
    "country",
    "sector",
    "group",
    "beneficiaries",
    "budget_kwd",
    "start",
    "end",
    "points",
    "areas",
)


def record_args(project: dict) -> dict:
    """build_record's keyword arguments of a project (without id, charity and status)."""
    return {key: project[key] for key in RECORD_ARGS}


# --- rewording (English) --------------------------------------------------------------------------------------

_SYNONYMS = [
    ("provide", "deliver"),
    ("provides", "delivers"),
    ("providing", "delivering"),
    ("support", "assistance"),
    ("supporting", "assisting"),
    ("improve", "enhance"),
    ("improving", "enhancing"),
    ("improved", "better"),
    ("increase", "raise"),
    ("reduce", "lower"),
    ("ensure", "guarantee"),
    ("construction", "building"),
    ("construct", "build"),
    ("rehabilitation", "repair"),
    ("rehabilitate", "repair"),
    ("people", "persons"),
    ("children", "kids"),
    ("vulnerable", "at-risk"),
    ("households", "families"),
    ("communities", "localities"),
    ("emergency", "urgent"),
    ("response", "reaction"),
    ("project", "programme"),
    ("activities", "interventions"),
    ("through", "via"),
    ("including", "such as"),
    ("access", "availability"),
    ("affected", "impacted"),
    ("distribution", "delivery"),
    ("awareness", "sensitisation"),
    ("strengthen", "reinforce"),
    ("strengthening", "reinforcing"),
    ("assistance", "aid"),
    ("help", "assist"),
    ("women", "females"),
    ("girls", "young women"),
    ("prevent", "avert"),
    ("prevention", "avoidance"),
    ("training", "capacity building"),
    ("needs", "requirements"),
    ("implementation", "execution"),
    ("local", "community-level"),
    ("health", "medical"),
    ("food", "nutrition"),
    ("shelter", "housing"),
    ("livelihoods", "income sources"),
]
SYNONYM = dict(_SYNONYMS) | {b: a for a, b in _SYNONYMS if " " not in b}
_ADDED_SENTENCES = [
    "The project will be implemented in close coordination with the local authorities.",
    "Monitoring visits will take place every month.",
    "Beneficiaries were selected according to clear vulnerability criteria.",
    "The charity has worked in the area for several years.",
    "A final report will be shared with the donors.",
    "Community committees will take part in every phase.",
    "Special attention will be given to female-headed households.",
]
_TITLE_PREFIXES = ["Project: ", "Emergency ", "Phase 2 - ", "", "", ""]
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*|\d[\d,.]*|[^\w\s]+|_+|\s+")


def _match_case(new: str, old: str) -> str:
    if old.isupper() and len(old) > 1:
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def swap_synonyms(text: str, rng: random.Random, share: float = 0.5) -> str:
    out = []
    for piece in _WORD.findall(text):
        swap = SYNONYM.get(piece.casefold())
        out.append(_match_case(swap, piece) if swap and rng.random() < share else piece)
    return "".join(out)


def reword(text: str, rng: random.Random) -> str:
    """Synonyms swapped, clauses and sentences reordered, a sentence dropped or added."""
    if not text:
        return text
    sentences = [s for s in _SENTENCE.split(text.replace("\n", " ")) if s.strip()]
    result = []
    for sentence in sentences:
        sentence = swap_synonyms(sentence, rng)
        clauses = sentence.rstrip(".!? ").split(", ")
        if len(clauses) > 2 and rng.random() < 0.4:
            head, *rest = clauses
            rng.shuffle(rest)
            sentence = ", ".join([head, *rest]) + "."
        result.append(sentence)
    if len(result) > 2 and rng.random() < 0.6:
        result.pop(rng.randrange(1, len(result)))
    if len(result) > 2 and rng.random() < 0.5:
        i = rng.randrange(len(result) - 1)
        result[i], result[i + 1] = result[i + 1], result[i]
    if rng.random() < 0.5:
        result.insert(rng.randrange(len(result) + 1), rng.choice(_ADDED_SENTENCES))
    return " ".join(result)


def reword_title(title: str, rng: random.Random) -> str:
    if not title:
        return title
    title = swap_synonyms(title, rng, share=0.6)
    match = re.match(r"^(.{8,}?) in (.{3,})$", title)
    if match and rng.random() < 0.5:
        title = f"{match.group(2)}: {match.group(1)}"
    return rng.choice(_TITLE_PREFIXES) + title


# --- Arabic ---------------------------------------------------------------------------------------------------

_LATIN_TO_ARABIC = [
    ("sh", "ش"),
    ("kh", "خ"),
    ("gh", "غ"),
    ("th", "ث"),
    ("dh", "ذ"),
    ("ch", "تش"),
    ("ph", "ف"),
    ("ou", "و"),
    ("oo", "و"),
    ("ee", "ي"),
    ("ai", "اي"),
    ("ay", "اي"),
    ("b", "ب"),
    ("c", "ك"),
    ("d", "د"),
    ("f", "ف"),
    ("g", "غ"),
    ("h", "ه"),
    ("j", "ج"),
    ("k", "ك"),
    ("l", "ل"),
    ("m", "م"),
    ("n", "ن"),
    ("p", "ب"),
    ("q", "ق"),
    ("r", "ر"),
    ("s", "س"),
    ("t", "ت"),
    ("v", "ف"),
    ("w", "و"),
    ("x", "كس"),
    ("y", "ي"),
    ("z", "ز"),
    ("i", "ي"),
    ("o", "و"),
    ("u", "و"),
    ("a", "ا"),
    ("e", ""),
]
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def transliterate(word: str, rng: random.Random | None = None) -> str:
    """A Latin-script name written in Arabic letters, as Arabic writers spell foreign names: long vowels written,
    short a/e inside a word mostly left out, "Al-" joined as the article, a final a as ة or ا."""
    text = unicodedata.normalize("NFKD", word.casefold()).encode("ascii", "ignore").decode()
    article = ""
    match = re.match(r"^(al|el)[- ]?(?=\w{3})", text)
    if match:
        article, text = "ال", text[match.end() :]
    text = re.sub(r"[^a-z]", "", text)
    if not text:
        return word
    out = []
    i = 0
    while i < len(text):
        for latin, arabic in _LATIN_TO_ARABIC:
            if text.startswith(latin, i):
                if latin in {"a", "e", "i"} and i == 0:
                    arabic = "ا" if latin != "i" else "إي"
                elif latin == "a" and 0 < i < len(text) - 1 and (rng.random() < 0.6 if rng else True):
                    arabic = ""  # a short vowel
                elif latin == "a" and i == len(text) - 1:
                    arabic = "ة" if (rng.random() < 0.5 if rng else True) else "ا"
                elif latin == "e" and i == len(text) - 1 and len(text) > 3:
                    arabic = ""
                elif latin == "h" and i == len(text) - 1 and i > 0 and text[i - 1] == "a":
                    out[-1:] = ["ة"] if out and out[-1] in {"", "ا"} else out[-1:]
                    arabic = ""
                out.append(arabic)
                i += len(latin)
                break
        else:
            i += 1
    return article + "".join(out)


_FUNCTION_WORDS = {
    "and": "و",
    "in": "في",
    "to": "إلى",
    "with": "مع",
    "on": "على",
    "from": "من",
    "for": "لصالح",
    "through": "من خلال",
    "by": "من قبل",
    "at": "في",
    "during": "خلال",
    "against": "ضد",
    "between": "بين",
    "after": "بعد",
    "before": "قبل",
    "all": "كل",
    "other": "أخرى",
    "will": "سوف",
    "this": "هذا",
    "these": "هذه",
    "which": "التي",
    "who": "الذين",
    "not": "لا",
}
_DROPPED = {"the", "of", "a", "an", "is", "are", "was", "were", "be", "been", "its", "their", "it", "that", "as"}
_DROPPED |= {
    "de",
    "du",
    "des",
    "la",
    "le",
    "les",
    "l",
    "d",
    "un",
    "une",
    "au",
    "aux",
    "en",
    "est",
    "sont",
    "qui",
    "que",
}
_FUNCTION_WORDS |= {"et": "و", "dans": "في", "pour": "لصالح", "sur": "على", "par": "من قبل", "avec": "مع"}
_ARABIC_LETTERS = "بتثجحخدذرزسشصضطظعغفقكلمنهوي"


def opaque_arabic(word: str) -> str:
    """The Arabic translation of a word outside the lexicon: an Arabic word the generator cannot know, so one that
    shares nothing with the English (a deterministic stand-in of 3-6 Arabic letters)."""
    digest = hashlib.sha1(word.casefold().encode()).digest()
    length = 3 + digest[0] % 4
    return "".join(_ARABIC_LETTERS[b % len(_ARABIC_LETTERS)] for b in digest[1 : 1 + length])


class Translator:
    """English project text into Arabic: words of the bilingual lexicon to an Arabic surface form of their concept,
    names (capitalised words, the project's places, its partner) transliterated, function words translated,
    numbers kept (in Arabic-Indic digits half of the time), any other word to an Arabic word of its own."""

    def __init__(self, lexicon: dict[str, list[str]]):
        self.lexicon = lexicon  # English word (casefolded) -> Arabic surface forms

    def word(self, piece: str, *, names: set[str], sentence_start: bool, title_case: bool, rng: random.Random) -> str:
        if piece.isdigit():
            return piece
        low = piece.casefold().strip("'’")
        if low in self.lexicon:
            form = rng.choice(self.lexicon[low])
            return "ال" + form if " " not in form and rng.random() < 0.4 else form
        if low in _FUNCTION_WORDS:
            return _FUNCTION_WORDS[low]
        if low in _DROPPED:
            return ""
        capital = piece[:1].isupper() and not sentence_start and not title_case
        if low in names or capital or (piece.isupper() and len(piece) > 1):
            return transliterate(piece, rng)
        if low.endswith("s") and low[:-1] in self.lexicon:
            return rng.choice(self.lexicon[low[:-1]])
        return opaque_arabic(low)

    def __call__(self, text: str, rng: random.Random, *, names: set[str]) -> str:
        digits = rng.random() < 0.5
        words = re.findall(r"[A-Za-z]{4,}", text)
        title_case = sum(w[0].isupper() for w in words) > 0.6 * max(len(words), 1)
        out = []
        sentence_start = True
        for piece in _WORD.findall(text):
            if piece[:1].isalpha():
                parts = [piece] if re.match(r"^(?:al|el)-\w", piece, re.I) else [p for p in piece.split("-") if p]
                out.append(
                    " ".join(
                        self.word(part, names=names, sentence_start=sentence_start, title_case=title_case, rng=rng)
                        for part in parts
                    )
                )
                sentence_start = False
            elif piece[:1].isdigit():
                out.append(piece.translate(_ARABIC_DIGITS) if digits else piece)
                sentence_start = False
            elif piece.isspace():
                out.append(" ")
            else:
                out.append(piece.replace(",", "،").replace("?", "؟").replace(";", "؛"))
                if any(c in piece for c in ".!?:"):
                    sentence_start = True
        return re.sub(r"\s+", " ", "".join(out)).strip()


def lexicon_for_translation() -> dict[str, list[str]]:
    """English (and French) word -> the Arabic surface forms of the same concept, from the bilingual lexicon
    (shafaf/matching/data/lexicon.tsv: ``concept<TAB>flags<TAB>forms``; phrases joined by underscores)."""
    from shafaf.matching import lexicon

    arabic = re.compile(r"[\u0600-\u06FF]")
    out: dict[str, list[str]] = {}
    for line in Path(lexicon.DATA).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        _concept, _flags, forms = line.split("\t")
        forms = [form.replace("_", " ") for form in forms.split()]
        ar = [form for form in forms if arabic.search(form)]
        if not ar:
            continue
        for form in forms:
            if not arabic.search(form) and " " not in form:
                out.setdefault(form.casefold(), ar)
    return out


# --- partner names --------------------------------------------------------------------------------------------

_GENERIC_AR = {
    "foundation": "مؤسسة",
    "society": "جمعية",
    "association": "جمعية",
    "organization": "منظمة",
    "organisation": "منظمة",
    "relief": "الإغاثة",
    "charity": "الخيرية",
    "charitable": "الخيرية",
    "humanitarian": "الإنسانية",
    "international": "الدولية",
    "development": "التنمية",
    "council": "مجلس",
    "committee": "لجنة",
    "center": "مركز",
    "centre": "مركز",
}


def respell(name: str, rng: random.Random) -> str:
    """Another Latin spelling of the same name: Al-Rahma -> Alrahmah / El Rahma, ou <-> u, doubled letters."""
    words = name.split()
    out = []
    for word in words:
        w = word
        if word.casefold() in _GENERIC_AR:
            out.append(w)
            continue
        if re.match(r"^(al|el)-", w, re.I):
            w = rng.choice([w[:2] + w[3:].lower(), w[:2] + " " + w[3:], "El-" + w[3:], w])
        if len(w) > 3 and w.lower().endswith("a") and rng.random() < 0.5:
            w += "h"
        elif len(w) > 4 and w.lower().endswith("ah") and rng.random() < 0.5:
            w = w[:-1]
        if "ou" in w and rng.random() < 0.5:
            w = w.replace("ou", "u")
        elif "u" in w and "ou" not in w and rng.random() < 0.3:
            w = w.replace("u", "ou", 1)
        if "ee" in w and rng.random() < 0.5:
            w = w.replace("ee", "i")
        match = re.search(r"([bdfklmnrst])\1", w)
        if match and rng.random() < 0.5:
            w = w[: match.start()] + w[match.start() + 1 :]
        out.append(w)
    return " ".join(out)


def partner_in_arabic(name: str, rng: random.Random) -> str:
    """The partner's name as an Arabic-writing charity enters it: generic words translated and put first, the
    rest transliterated."""
    nouns, proper, adjectives = [], [], []
    for word in re.findall(r"[A-Za-z][A-Za-z'\-]*", name):
        low = word.casefold()
        if low in _GENERIC_AR:
            (adjectives if _GENERIC_AR[low].startswith("ال") else nouns).append(_GENERIC_AR[low])
        elif low in _DROPPED or low in {"for", "and", "of"}:
            continue
        else:
            proper.append(transliterate(word, rng))
    return " ".join(nouns[:1] + proper + adjectives + nouns[1:])


def partner_variant(name: str, rng: random.Random) -> str:
    if not name:
        return name
    return respell(name, rng) if rng.random() < 0.5 else partner_in_arabic(name, rng)


# --- resubmissions and hard negatives -------------------------------------------------------------------------


def move_point(point: tuple[float, float], km_low: float, km_high: float, rng: random.Random) -> tuple[float, float]:
    distance = rng.uniform(km_low, km_high)
    bearing = rng.uniform(0, 2 * math.pi)
    lat, lon = point
    dlat = distance * math.cos(bearing) / KM_PER_DEGREE
    dlon = distance * math.sin(bearing) / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.05))
    return (max(-89.9, min(89.9, lat + dlat)), ((lon + dlon + 180) % 360) - 180)


def _scale_int(value: int | None, share: float, rng: random.Random) -> int | None:
    if value is None:
        return None
    return max(1, round(value * (1 + rng.uniform(-share, share))))


def _change_numbers(text: str, rng: random.Random, low: float, high: float) -> str:
    """Whole numbers (not years) changed by a factor between low and high (either way), never to the same."""

    def change(match: re.Match) -> str:
        raw = match.group(0)
        value = int(raw.replace(",", ""))
        if 1900 <= value <= 2100:
            return raw
        factor = rng.uniform(low, high)
        new = max(1, round(value * (factor if rng.random() < 0.5 else 1 / factor)))
        if new == value:
            new = value + rng.randint(1, 3)
        return f"{new:,}" if "," in raw else str(new)

    return re.sub(r"(?<![\d.,-])(?:\d{1,3}(?:,\d{3})+|\d+)(?![\d.,]\d|-\d)", change, text)


class Generator:
    def __init__(self, projects: list[dict], rates: Rates, registry: Registry, translator: Translator | None):
        self.projects = projects
        self.rates = rates
        self.registry = registry
        self.translate = translator
        self.by_country: dict[str, list[dict]] = defaultdict(list)
        for project in projects:
            self.by_country[project["country"]].append(project)

    def _names(self, project: dict) -> set[str]:
        names = set()
        for text in [project["partner_name"], *project["areas"]]:
            names.update(w.casefold() for w in re.findall(r"[A-Za-z]+", text or "") if len(w) > 2)
        return names

    def other_charity(self, charity: int, rng: random.Random) -> int:
        choice = rng.randrange(1, self.registry.charities)
        return choice if choice < charity else choice + 1

    def _budget(self, project: dict, rng: random.Random, start: dt.date | None) -> int | None:
        """Changed up to 15 %, written in another currency at the rate of the day the other charity prepared it,
        converted back to KWD by the platform at the rate of the submission's start."""
        if project["budget_kwd"] is None:
            return None
        changed = project["budget_kwd"] * (1 + rng.uniform(-0.15, 0.15))
        currency = rng.choice(
            [c for c in ("USD", "EUR", "GBP", "CHF", "SEK", "NOK", "KWD") if c != project["currency"]]
        )
        prepared = (start or dt.date(2020, 6, 1)) - dt.timedelta(days=rng.randrange(30, 240))
        amount = self.rates.from_fils(int(changed), currency, prepared)
        if amount is None:
            return int(changed)
        amount = round(amount, -2) if amount > 1000 else round(amount)
        return self.rates.to_fils(Decimal(amount), currency, start or prepared) or None

    def resubmission(self, project: dict, rng: random.Random) -> dict:
        """The same project submitted by another charity (see the module docstring)."""
        names = self._names(project)
        title = reword_title(project["title_en"], rng) if project["title_en"] else ""
        description = reword(project["description_en"], rng) if project["description_en"] else ""
        title_ar = description_ar = ""
        mode = rng.random()
        variant = "english"
        if self.translate and mode < 0.4:
            variant = "arabic" if mode < 0.25 else "bilingual"
            title_ar = self.translate(title or project["title_ar"], rng, names=names)
            description_ar = self.translate(description, rng, names=names) if description else ""
            if mode < 0.25:  # Arabic only
                title = description = ""
        elif project["title_ar"]:
            title_ar, description_ar = project["title_ar"], project["description_ar"]
        shift = dt.timedelta(days=rng.randint(-182, 182))
        start = project["start"] + shift if project["start"] else None
        end = project["end"] + shift + dt.timedelta(days=rng.randint(-30, 30)) if project["end"] else None
        if start and end and end < start:
            end = start + dt.timedelta(days=90)
        points = [move_point(project["points"][0], 0, 3, rng)] if project["points"] else []
        areas = list(project["areas"])
        if areas and self.translate and title_ar and rng.random() < 0.5:
            areas = [" ".join(transliterate(word, rng) for word in areas[0].split()), *areas[1:]]
        partner, partner_name = project["partner"], project["partner_name"]
        if partner is not None and rng.random() < 0.5:
            partner, partner_name = self.registry.new_partner(), partner_variant(partner_name, rng)
        return {
            **project,
            "ref": "RESUB-" + project["ref"],
            "text_source": project,
            "variant": variant,
            "title_en": title,
            "description_en": description,
            "title_ar": title_ar,
            "description_ar": description_ar,
            "partner": partner,
            "partner_name": partner_name,
            "beneficiaries": _scale_int(project["beneficiaries"], 0.2, rng),
            "budget_kwd": self._budget(project, rng, start),
            "start": start,
            "end": end,
            "points": points,
            "areas": areas,
        }

    def _other(self, project: dict, rng: random.Random, *, same_sector: bool | None) -> dict:
        """Another real project of the same country (any country when there is none), of the same sector or of
        another one."""
        pool = [p for p in self.by_country[project["country"]] if p["ref"] != project["ref"]] or self.projects
        if same_sector is not None:
            narrowed = [p for p in pool if (p["sector"] == project["sector"]) == same_sector]
            pool = narrowed or pool
        return rng.choice(pool)

    def same_partner_other_work(self, project: dict, rng: random.Random) -> dict:
        """Same partner and country, another project: of another sector, or of the same sector a year or more
        apart."""
        another_year = rng.random() < 0.5
        other = self._other(project, rng, same_sector=another_year)
        start, end = other["start"], other["end"]
        if another_year and project["start"]:
            years = dt.timedelta(days=365 * rng.choice([-2, -1, 1, 2]) + rng.randint(-30, 30))
            start, end = project["start"] + years, (project["end"] or project["start"]) + years
        return {
            **other,
            "ref": "NEG-PARTNER-" + project["ref"],
            "text_source": other,
            "partner": project["partner"],
            "partner_name": project["partner_name"],
            "country": project["country"],
            "sector": project["sector"] if another_year else other["sector"],
            "start": start,
            "end": end,
        }

    def neighbour(self, project: dict, rng: random.Random) -> dict:
        """Another project a few km away (1-5 km), same country, another partner."""
        other = self._other(project, rng, same_sector=None)
        point = project["points"][0] if project["points"] else None
        return {
            **other,
            "ref": "NEG-NEAR-" + project["ref"],
            "text_source": other,
            "country": project["country"],
            "points": [move_point(point, 1, 5, rng)] if point else other["points"],
            "areas": list(project["areas"]),
        }

    def template_village(self, project: dict, rng: random.Random) -> dict:
        """The same template text for another village: only the place name and the counts differ."""
        from shafaf.projects.codelists import COUNTRIES

        country_names = {COUNTRIES.get(project["country"], {}).get(k, "") for k in ("name_en", "name_ar")}
        places = sorted(
            {
                area
                for p in self.by_country[project["country"]]
                for area in p["areas"][:1]
                if area not in country_names and area not in project["areas"]
            }
        )
        place = rng.choice(places) if places else "Village " + str(rng.randrange(2, 99))
        old = project["areas"][0] if project["areas"] else ""

        def swap(text: str) -> str:
            if not text:
                return text
            if old and old in text:
                text = text.replace(old, place)
            text = _change_numbers(text, rng, 1.3, 3.0)
            return text

        title_en = swap(project["title_en"])
        if project["title_en"] and (not old or old not in project["title_en"]):
            title_en = f"{title_en} - {place}"
        point = project["points"][0] if project["points"] else None
        beneficiaries = project["beneficiaries"]
        if beneficiaries:
            beneficiaries = max(1, round(beneficiaries * rng.choice([rng.uniform(0.3, 0.7), rng.uniform(1.4, 3)])))
        return {
            **project,
            "ref": "NEG-TEMPLATE-" + project["ref"],
            "text_source": project,
            "title_en": title_en,
            "description_en": swap(project["description_en"]),
            "title_ar": swap(project["title_ar"]),
            "description_ar": swap(project["description_ar"]),
            "partner": project["partner"] if rng.random() < 0.5 else None,
            "partner_name": project["partner_name"],
            "beneficiaries": beneficiaries,
            "budget_kwd": _scale_int(project["budget_kwd"], 0.4, rng),
            "points": [move_point(point, 10, 80, rng)] if point else [],
            "areas": [place],
        }


# --- synthetic corpora for the speed test ---------------------------------------------------------------------

_SKELETON = "bdfhjklmnrstz"


class Perturber:
    """Records derived from base records (built from the real activities and their resubmissions): another id,
    charity, partner, site (up to 200 km away), dates (up to 2 years), counts and budget (x0.3 to x3), a quarter
    of the word tokens replaced from a synthetic vocabulary of 300,000 words, counts in the quantities changed.
    So the corpus has real token and key distributions without being 400 copies of each activity."""

    def __init__(self, base: list[dict], seed: int = 5):
        self.base = base
        self.rng = random.Random(seed)
        vocab_rng = random.Random(seed + 1)
        self.vocabulary = [
            "k:" + "".join(vocab_rng.choice(_SKELETON) for _ in range(vocab_rng.randint(3, 6))) for _ in range(300_000)
        ]
        self.partner_keys = ["".join(vocab_rng.choice(_SKELETON) for _ in range(5)) for _ in range(30_000)]
        self.countries = sorted({r["country"] for r in base if r["country"]})

    def record(self, new_id: int) -> dict:
        rng = self.rng
        base = rng.choice(self.base)
        mapping = {}
        text = []
        for token in base["text"]:
            if token.startswith("k:") and rng.random() < 0.25:
                mapping[token] = self.vocabulary[int(rng.paretovariate(1.1) * 40) % len(self.vocabulary)]
                text.append(mapping[token])
            else:
                text.append(token)
        title = sorted({mapping.get(t, t) for t in base["title"]})
        partner = None
        partner_key = ""
        if rng.random() < 0.7:
            partner = rng.randrange(1, len(self.partner_keys))
            partner_key = self.partner_keys[partner]
        lat = lon = None
        if base["lat"] is not None:
            lat, lon = move_point((base["lat"], base["lon"]), 0, 200, rng)
        start = end = None
        if base["start"] is not None:
            shift = rng.randint(-730, 730)
            start, end = base["start"] + shift, base["end"] + shift

        def scale(value):
            return None if value is None else max(1, int(value * math.exp(rng.uniform(-1.2, 1.1))))

        quantities = []
        for quantity in base["quantities"]:
            concept, _, _count = quantity.rpartition(":")
            quantities.append(f"{concept}:{rng.randint(1, 60)}" if rng.random() < 0.7 else quantity)
        return {
            **base,
            "id": new_id,
            "ref": f"SYN-{new_id}",
            "charity": rng.randrange(1, 201),
            "status": rng.choice(("submitted", "under_review", "approved", "in_execution")),
            "partner": partner,
            "partner_key": partner_key,
            "country": base["country"] if rng.random() < 0.8 else rng.choice(self.countries),
            "beneficiaries": scale(base["beneficiaries"]),
            "budget_kwd": scale(base["budget_kwd"]),
            "start": start,
            "end": end,
            "lat": lat,
            "lon": lon,
            "text": sorted(set(text))[:400],
            "title": title,
            "quantities": sorted(set(quantities)),
        }
