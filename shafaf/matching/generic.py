"""Generic organisation words in Arabic, English, French, Spanish and transliterated Arabic.

Each generic word maps to a concept; words of the same concept match each other across languages
(جمعية = society = association = jamiat) but carry little weight: a name never matches on generic words alone,
unless both names are made of nothing else and their concepts agree word for word.

Arabic entries are written in normalised form (ة -> ه, أ/إ/آ -> ا, ى -> ي, ؤ -> و, ئ -> ي), without the article ال.
Stop words (the, of, and, de, و, في ...) are dropped entirely.
"""

from __future__ import annotations

from functools import lru_cache

_CONCEPTS: dict[str, tuple[str, ...]] = {
    "society": (
        "society",
        "societies",
        "association",
        "associations",
        "assoc",
        "societe",
        "asociacion",
        "associacao",
        "associazione",
        "verein",
        "jamiat",
        "jamiyat",
        "jamiyah",
        "jamiya",
        "jamiyya",
        "jamiyyat",
        "jamia",
        "jamiah",
        "jameia",
        "جمعيه",
        "جمعيات",
    ),
    "foundation": (
        "foundation",
        "foundations",
        "fondation",
        "fundacion",
        "fundacao",
        "fondazione",
        "stiftung",
        "stichting",
        "establishment",
        "institution",
        "institute",
        "institut",
        "instituto",
        "muassasat",
        "muassasa",
        "muassasah",
        "muasasat",
        "موسسه",
        "معهد",
    ),
    "charity": (
        "charity",
        "charities",
        "charitable",
        "benevolent",
        "benevolence",
        "welfare",
        "caritas",
        "caritative",
        "khairiya",
        "khairiyah",
        "khayriya",
        "khayriyah",
        "khairia",
        "khairiyya",
        "khayria",
        "kheiria",
        "khairi",
        "khayri",
        "خيريه",
        "خيري",
        "بر",
    ),
    "relief": ("relief", "aid", "assistance", "secours", "socorro", "ighatha", "ighathah", "igatha", "اغاثه", "اغاثي"),
    "islamic": (
        "islamic",
        "islam",
        "islamique",
        "islamica",
        "islamico",
        "muslim",
        "muslims",
        "muslimin",
        "muslimeen",
        "moslem",
        "islamiya",
        "islamiyah",
        "islamia",
        "islamiyya",
        "islamiah",
        "islamiyah",
        "islamiya",
        "islami",
        "اسلاميه",
        "اسلامي",
        "اسلام",
        "مسلمين",
        "مسلمون",
    ),
    "international": (
        "international",
        "internationale",
        "internacional",
        "internazionale",
        "global",
        "worldwide",
        "world",
        "mondial",
        "mundial",
        "alami",
        "alamiya",
        "dawli",
        "dawliya",
        "دوليه",
        "دولي",
        "عالميه",
        "عالمي",
    ),
    "organisation": (
        "organisation",
        "organization",
        "organisations",
        "organizations",
        "org",
        "organizacion",
        "organizacao",
        "munazzamat",
        "munazamat",
        "munazzama",
        "tanzim",
        "tanzeem",
        "tanthim",
        "منظمه",
        "تنظيم",
    ),
    "commission": ("commission", "authority", "agency", "board", "hayat", "hayah", "hayaat", "هييه", "وكاله"),
    "center": ("center", "centre", "centro", "centers", "centres", "markaz", "مركز"),
    "company": (
        "company",
        "companies",
        "co",
        "corp",
        "corporation",
        "ltd",
        "limited",
        "inc",
        "incorporated",
        "llc",
        "plc",
        "sa",
        "sarl",
        "sas",
        "gmbh",
        "srl",
        "cv",
        "ag",
        "bv",
        "jsc",
        "ojsc",
        "ooo",
        "zao",
        "pte",
        "pvt",
        "sherkat",
        "sharikat",
        "شركه",
        "كمپني",
        "كمبني",
        "لمتد",
        "لميتد",
        "ليمتد",
    ),
    "trust": ("trust", "trustees", "waqf", "وقف"),
    "fund": ("fund", "funds", "fonds", "fondo", "sunduq", "صندوق"),
    "committee": ("committee", "committees", "comite", "comitato", "lajnat", "lajna", "لجنه"),
    "development": ("development", "developpement", "desarrollo", "tanmiya", "tanmia", "تنميه"),
    "humanitarian": ("humanitarian", "humanitaire", "humanitaria", "humanitario", "insani", "انسانيه", "انساني"),
    "council": ("council", "conseil", "consejo", "majlis", "مجلس"),
    "union": ("union", "federation", "ittihad", "اتحاد"),
    "network": ("network", "reseau", "شبكه"),
    "national": ("national", "nationale", "nacional", "nazionale", "watani", "وطني", "وطنيه"),
    "services": ("service", "services", "servicios", "khidamat", "khadamat", "khidmat", "خدمات", "خدمه"),
    "community": ("community", "communities", "communaute", "comunidad", "مجتمع", "مجتمعي"),
    "group": (
        "group",
        "groupe",
        "grupo",
        "groups",
        "jamaat",
        "jamaah",
        "jemaah",
        "jamaa",
        "جماعه",
        "مجموعه",
        "گروپ",
        "گروه",
    ),
    "movement": ("movement", "mouvement", "movimiento", "harakat", "harakah", "haraka", "حركه"),
    "front": ("front", "frente", "jabhat", "jabhah", "jabha", "جبهه"),
    "party": ("party", "parti", "partido", "hizb", "حزب"),
    "brigade": (
        "brigade",
        "brigades",
        "battalion",
        "battalions",
        "katibat",
        "katibah",
        "kataib",
        "liwa",
        "liwaa",
        "saraya",
        "sarayat",
        "كتيبه",
        "كتايب",
        "لواء",
        "لوا",
        "سرايا",
        "سريه",
    ),
    "supporters": ("supporters", "partisans", "ansar", "ansaar", "ansor", "انصار"),
    "army": ("army", "armee", "ejercito", "jaish", "jaysh", "جيش"),
    "fighters": (
        "fighting",
        "fighters",
        "combatant",
        "combatants",
        "combattant",
        "combattants",
        "muqatila",
        "muqatilah",
        "مقاتله",
        "مقاتلين",
        "مقاتلون",
    ),
    "bank": ("bank", "banco", "banque", "banca", "masraf", "بنك", "مصرف"),
    "trading": ("trading", "trade", "commerce", "commercial", "comercial", "tijara", "تجاره", "تجاريه"),
    "industry": ("industry", "industries", "industrial", "industria", "صناعه", "صناعات"),
    "office": ("office", "bureau", "oficina", "maktab", "مكتب"),
    "exchange": ("exchange", "exchanges", "sarafi", "sarrafi", "صرافه", "صرافي"),
    "peninsula": ("peninsula", "jazira", "jazirat", "جزيره"),
    "people": ("people", "peoples", "popular", "populaire", "شعب", "شعبي", "شعبيه"),
    "support": ("support", "solidarity", "solidarite", "solidaridad", "دعم", "تضامن"),
    "children": ("children", "child", "childrens", "youth", "enfants", "ninos", "اطفال", "طفل", "شباب"),
    "health": ("health", "medical", "sante", "salud", "صحه", "طبي", "طبيه"),
    "education": ("education", "educational", "school", "schools", "college", "university", "تعليم", "مدرسه", "جامعه"),
    "church": ("church", "churches", "mission", "ministries", "ministry", "كنيسه"),
    "care": ("care", "caring", "رعايه"),
    "mosque": ("mosque", "masjid", "مسجد", "جامع"),
}

# Country and region names: an organisation named after its country ("Caritas Syria", "Pakistan Relief
# Foundation") shares nothing distinctive with another one of the same country. Each is its own concept.
_PLACES: dict[str, tuple[str, ...]] = {
    "afghanistan": ("afghanistan", "afghan", "افغانستان"),
    "algeria": ("algeria", "algerie", "algerian", "الجزاير", "جزاير"),
    "bahrain": ("bahrain", "بحرين"),
    "bangladesh": ("bangladesh", "بنغلاديش"),
    "chad": ("chad", "tchad", "تشاد"),
    "egypt": ("egypt", "egyptian", "misr", "مصر"),
    "ethiopia": ("ethiopia", "ethiopian", "اثيوبيا"),
    "india": ("india", "indian", "هند"),
    "indonesia": ("indonesia", "indonesian", "اندونيسيا"),
    "iran": ("iran", "iranian", "ايران"),
    "iraq": ("iraq", "iraqi", "عراق"),
    "jordan": ("jordan", "jordanian", "اردن"),
    "kenya": ("kenya", "kenyan", "كينيا"),
    "kuwait": ("kuwait", "kuwaiti", "كويت"),
    "lebanon": ("lebanon", "lebanese", "liban", "لبنان"),
    "libya": ("libya", "libyan", "libye", "ليبيا"),
    "mali": ("mali", "مالي"),
    "mauritania": ("mauritania", "mauritanie", "موريتانيا"),
    "morocco": ("morocco", "maroc", "moroccan", "maghreb", "maghrib", "مغرب"),
    "niger": ("niger", "النيجر", "نيجر"),
    "nigeria": ("nigeria", "nigerian", "نيجيريا"),
    "oman": ("oman", "عمان"),
    "pakistan": ("pakistan", "pakistani", "باكستان", "پاكستان"),
    "palestine": ("palestine", "palestinian", "palestinians", "فلسطين"),
    "qatar": ("qatar", "qatari", "قطر"),
    "saudi": ("saudi", "arabia", "سعوديه"),
    "somalia": ("somalia", "somali", "somaliland", "صومال"),
    "sudan": ("sudan", "sudanese", "سودان"),
    "syria": ("syria", "syrian", "syrie", "سوريا", "سوريه"),
    "tunisia": ("tunisia", "tunisie", "tunisian", "تونس"),
    "turkey": ("turkey", "turkiye", "turkish", "تركيا"),
    "uae": ("emirates", "uae", "امارات"),
    "yemen": ("yemen", "yemeni", "يمن"),
    "uk": ("uk", "britain", "british", "england", "scotland", "wales", "ireland", "irish", "northern"),
    "usa": ("usa", "america", "american", "us"),
    "africa": ("africa", "african", "افريقيا"),
    "asia": ("asia", "asian", "اسيا"),
    "europe": ("europe", "european", "اوروبا"),
    "arab": ("arab", "arabic", "arabian", "عربي", "عربيه", "عرب"),
    "middle east": ("middle", "east", "eastern", "شرق", "اوسط"),
    "gulf": ("gulf", "خليج"),
    "belfast": ("belfast", "derry", "londonderry", "ulster"),
}

STOPWORDS = frozenset(
    [
        "the",
        "of",
        "and",
        "for",
        "in",
        "on",
        "to",
        "at",
        "by",
        "from",
        "with",
        "a",
        "an",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "del",
        "da",
        "do",
        "dos",
        "das",
        "y",
        "e",
        "et",
        "und",
        "fur",
        "van",
        "der",
        "den",
        "het",
        "di",
        "wa",
        "fi",  # Arabic في, transliterated
        "wal",  # Arabic وال (and the), transliterated
        "au",
        "aux",
        "pour",
        "en",
        "و",
        "د",  # Pashto: of
        "او",  # Pashto: and; Arabic: or
        "في",
        "من",
        "الى",
        "علي",
        "عن",
        "ل",
    ]
)

GENERIC: dict[str, str] = {word: concept for concept, words in _CONCEPTS.items() for word in words}
GENERIC.update({word: "place:" + place for place, words in _PLACES.items() for word in words})
PLACE_LABELS_AR = {"place:" + place: words[-1] for place, words in _PLACES.items()}


def concept_of(norm: str) -> str:
    """The concept of a generic word (normalised, without article), or ""."""
    return GENERIC.get(norm, "")


MIN_FUZZY_GENERIC = 4  # Latin words at least this long are also recognised when misspelt
MIN_FUZZY_EDIT = 7  # and, from this length, when one letter is added, dropped, changed or two are swapped


def _voweled(norm: str) -> str:
    # imported here: translit does not depend on this module, but names imports both
    from .translit import latin_voweled

    return latin_voweled(norm)


def _deletions(shape: str) -> set[str]:
    return {shape[:i] + shape[i + 1 :] for i in range(1, len(shape))}  # the first letter is kept


@lru_cache(maxsize=1)
def _shapes() -> tuple[dict[str, str], dict[str, str]]:
    shapes: dict[str, str] = {}
    near: dict[str, str] = {}
    for word, concept in GENERIC.items():
        if len(word) >= 5 and word.isascii() and word.isalpha():
            # keyed by the first letter as written: "Eslami" (a family name) is not "Islami"
            shape = word[0] + _voweled(word)
            shapes.setdefault(shape, concept)
            if len(shape) > MIN_FUZZY_EDIT:
                for deleted in _deletions(shape[1:]):
                    near.setdefault(word[0] + deleted, concept)
    return shapes, near


@lru_cache(maxsize=65536)
def fuzzy_concept_of(norm: str) -> str:
    """The concept of a misspelt Latin generic word ("traddeeng", "compani", "grup", "cmopany"): the same first
    letter and the same letter classes with vowels as a generic word ("Trading" and "traddeeng" both read
    t-r-a-d-i-n-j), or, for longer words, one letter added, dropped, changed or swapped. Place names are guessed
    too ("Leebyan", "Pakisten"): generic words are read only in organisations' names (a person's "Libi" or "Turki"
    is a family name, see ``names.analyze``)."""
    if len(norm) < MIN_FUZZY_GENERIC or not norm.isascii() or not norm.isalpha():
        return ""
    shapes, near = _shapes()
    voweled = _voweled(norm)
    if len(voweled) < MIN_FUZZY_GENERIC:
        return ""
    concept = shapes.get(norm[0] + voweled, "")
    if concept or len(voweled) < MIN_FUZZY_EDIT:
        return concept
    if norm[0] + voweled in near:
        return near[norm[0] + voweled]
    for deleted in _deletions(voweled):
        concept = shapes.get(norm[0] + deleted, "") or near.get(norm[0] + deleted, "")
        if concept:
            return concept
    return ""


CONCEPT_LABELS_AR = {
    "society": "جمعية",
    "foundation": "مؤسسة",
    "charity": "خيرية",
    "relief": "إغاثة",
    "islamic": "إسلامية",
    "international": "دولية",
    "organisation": "منظمة",
    "commission": "هيئة",
    "center": "مركز",
    "company": "شركة",
    "trust": "وقف",
    "fund": "صندوق",
    "committee": "لجنة",
    "development": "تنمية",
    "humanitarian": "إنسانية",
    "council": "مجلس",
    "union": "اتحاد",
    "network": "شبكة",
    "national": "وطنية",
    "services": "خدمات",
    "community": "مجتمع",
    "group": "جماعة",
    "movement": "حركة",
    "front": "جبهة",
    "party": "حزب",
    "brigade": "كتيبة",
    "army": "جيش",
    "fighters": "مقاتلة",
    "bank": "مصرف",
    "trading": "تجارة",
    "industry": "صناعة",
    "office": "مكتب",
    "people": "شعب",
    "support": "دعم",
    "children": "أطفال",
    "health": "صحة",
    "education": "تعليم",
    "church": "كنيسة",
    "care": "رعاية",
    "mosque": "مسجد",
    "supporters": "أنصار",
    "exchange": "صرافة",
    "peninsula": "جزيرة",
}
