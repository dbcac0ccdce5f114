"""Screening against an index of made-up entries (and, once, the real UN list)."""

from pathlib import Path

import pytest

from shafaf.matching import (
    MatchingInputError,
    NameIndex,
    analyze,
    arabic_keys,
    latin_keys,
    normalize_arabic,
    normalize_latin,
)

UN_FILE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sanctions" / "un" / "UN_consolidated.xml"

SURNAMES = [
    "Qasimi",
    "Bardawil",
    "Zuhayri",
    "Khattabi",
    "Nuwayri",
    "Sharqawi",
    "Tantawi",
    "Jabbari",
    "Falluji",
    "Dulaimi",
    "Rifai",
    "Ghamdi",
    "Zahrani",
    "Harbi",
    "Mutairi",
    "Otaibi",
    "Anazi",
    "Shammari",
    "Juburi",
    "Ubaydi",
]


@pytest.fixture(scope="module")
def index():
    """Made-up entries; 'Muhammad' and 'Ahmad' are common, as on real lists."""
    built = NameIndex()
    for number, surname in enumerate(SURNAMES):
        built.add(
            f"T{number:03d}", "TEST", names=[(f"Muhammad Ahmad {surname}", "primary", "")], entity_type="individual"
        )
        built.add(f"A{number:03d}", "TEST", names=[(f"Ahmad {surname} Hasan", "primary", "")], entity_type="individual")
    built.add(
        "X.001",
        "TEST",
        names=[
            ("ZUBAYR ABD AL-RAHMAN AL-MAQDISI", "primary", ""),
            ("Abu Zubayr", "alias", "Low"),
            ("Usama Nurjaman", "alias", "Good"),
            ("زبير عبد الرحمن المقدسي", "original_script", ""),
        ],
        entity_type="individual",
        dates_of_birth=["1961-05-02"],
        countries=["Jordan"],
    )
    built.add("X.002", "TEST", names=["Muhammad"], entity_type="individual", dates_of_birth=["1957"])
    built.add("X.003", "TEST", names=["Islamic Foundation"], entity_type="entity")
    built.add(
        "X.004",
        "TEST",
        names=[("Nour al-Din Charitable Society", "primary", ""), ("جمعية نور الدين الخيرية", "original_script", "")],
        entity_type="entity",
        countries=["Lebanon"],
    )
    built.add("X.005", "TEST", names=["Islamic Relief Society"], entity_type="entity")
    return built


def alerting(result):
    return [m.entry_id for m in result.matches if m.alert]


def test_exact_name_alerts_and_explains(index):
    result = index.screen("Zubayr Abd al-Rahman al-Maqdisi")
    assert result.alert
    best = result.best
    assert best.entry_id == "X.001"
    assert best.score == pytest.approx(1.0)
    assert "X.001" in best.explanation and "'ZUBAYR ABD AL-RAHMAN AL-MAQDISI'" in best.explanation
    assert "X.001" in best.explanation_ar and "طابق" in best.explanation_ar


@pytest.mark.parametrize(
    "query",
    [
        "Zubair Abdul Rahman el-Maqdisi",  # transliteration and particles
        "Zubayr Abdurrahman Maqdisi",  # Abd al- written as one word, no article
        "al-Maqdisi Zubayr Abd al-Rahman",  # reordered
        "Zubayr al-Maqdisi",  # a missing middle name
        "Zubayr Abd al-Rahman al-Maqdasi",  # a typo
        "زبير عبدالرحمن المقدسي",  # Arabic, glued Abd
        "\u200fزُبَيْر عبد الرحمن المقدسى\u200f",  # Arabic with diacritics, alef maqsura and direction marks
        "Zubayr عبد الرحمن Maqdisi",  # mixed scripts
    ],
)
def test_variants_alert_on_the_entry(index, query):
    assert "X.001" in alerting(index.screen(query)), query


def test_arabic_name_matches_the_latin_name_after_transliteration():
    latin_only = NameIndex()
    latin_only.add("X.001", "TEST", names=[("Usama Nurjaman", "alias", "Good")], entity_type="individual")
    latin_only.add("X.009", "TEST", names=["Hamid Qasimi"], entity_type="individual")
    result = latin_only.screen("أسامة نورجمان")
    assert alerting(result) == ["X.001"]
    assert "'أسامة' matched 'Usama' after transliteration" in result.best.explanation
    assert "alias 'Usama Nurjaman' of X.001" in result.best.explanation


def test_a_single_common_name_needs_a_second_attribute(index):
    alone = index.screen("Mohammed")
    assert not alone.alert
    own = next(m for m in alone.matches if m.entry_id == "X.002")
    assert "common name only; no second attribute agrees" in own.explanation
    with_birth = index.screen("Mohammed", date_of_birth="1957-03-10")
    assert "X.002" in alerting(with_birth)
    confirmed = next(m for m in with_birth.matches if m.entry_id == "X.002")
    assert "date of birth 1957 agrees" in confirmed.explanation
    assert not index.screen("Mohammed", date_of_birth="1980").alert


def test_common_first_names_do_not_alert_on_a_different_family_name(index):
    result = index.screen("Muhammad Ahmad Smith")
    assert not result.alert


def test_country_confirms_a_common_name(index):
    result = index.screen("Abu Zubayr", country="Jordan")
    assert "X.001" in alerting(result)
    assert "country Jordan agrees" in next(m for m in result.matches if m.entry_id == "X.001").explanation


def test_generic_words_alone_never_match(index):
    result = index.screen("Islamic Relief Foundation")
    assert "X.003" not in alerting(result)
    assert "X.005" not in alerting(result)
    assert "X.003" not in alerting(index.screen("Islamic Relief Society"))


def test_generic_words_match_across_languages(index):
    assert "X.005" in alerting(index.screen("جمعية الإغاثة الإسلامية"))
    result = index.screen("جمعية نور الدين الخيرية")
    assert "X.004" in alerting(result)
    english = index.screen("Nuruddin Charity Association")
    assert "X.004" in alerting(english)
    assert "written as one word" in next(m for m in english.matches if m.entry_id == "X.004").explanation


def test_unrelated_organisation_does_not_alert(index):
    assert not index.screen("Belfast Cancer Support Trust").alert


def test_particle_alone_does_not_match(index):
    assert not index.screen("Abu bin").alert


@pytest.mark.parametrize("name", ["", "   ", "!!! ---", "\u200f\u200b", "- al -", "12345"])
def test_empty_or_meaningless_names_are_refused(index, name):
    with pytest.raises(MatchingInputError) as error:
        index.screen(name)
    assert error.value.message
    assert error.value.message_ar


def test_a_very_long_name_is_refused_with_a_clear_message(index):
    with pytest.raises(MatchingInputError, match="too long") as error:
        index.screen("Zubayr " * 1500)
    assert "الحد الأقصى" in error.value.message_ar
    with pytest.raises(MatchingInputError, match="too long"):
        index.screen("x" * 10_000)


def test_screen_names_merges_the_names_of_one_party(index):
    result = index.screen_names(["", "شركة الأمل", "Zubayr Maqdisi"])
    assert result.alert
    assert result.best.entry_id == "X.001"


@pytest.fixture(scope="module")
def un_index():
    from shafaf.partners.sanctions_parse import parse_un

    built = NameIndex()
    built.add_parsed("UN", parse_un(UN_FILE))
    return built


def test_real_list_arabic_original_script_and_transliteration(un_index):
    result = un_index.screen("صدام حسين التكريتي", entity_type="individual")
    assert "IQi.001" in alerting(result)
    latin = un_index.screen("Saddam Husayn el-Tikriti", entity_type="individual")
    assert latin.best.entry_id == "IQi.001"
    assert latin.best.alert


@pytest.fixture(scope="module")
def typo_index():
    built = NameIndex()
    names = ["LUCIEN NZAMBAMWITA", ("André Kalume", "alias", "Good")]
    built.add("C.034", "TEST", names=names, entity_type="individual")
    built.add("C.035", "TEST", names=["Lucas Mbemba"], entity_type="individual")
    for number, surname in enumerate(SURNAMES):
        built.add(f"M{number:03d}", "TEST", names=[f"Muhammad Hasan {surname}"], entity_type="individual")
        built.add(f"H{number:03d}", "TEST", names=[f"Hasan {surname} Ali"], entity_type="individual")
        built.add(f"K{number:03d}", "TEST", names=[f"Muhammad {surname}"], entity_type="individual")
        built.add(f"E{number:03d}", "TEST", names=[f"{surname} Trading Corporation"], entity_type="entity")
    built.add("E.001", "TEST", names=["Namchongang Trading Corporation"], entity_type="entity")
    built.add("E.002", "TEST", names=["Korea Trading Corporation Jangsu"], entity_type="entity")
    built.add(
        "M.100",
        "TEST",
        names=["Muhammad Hasan", ("Abu Hasan", "alias", "Low")],
        entity_type="individual",
        dates_of_birth=["1970-01-01"],
        countries=["Jordan"],
    )
    return built


@pytest.mark.parametrize("query", ["LUIEN NZAMBAMWITA", "Anré Kalume"])
def test_a_one_letter_typo_in_a_distinctive_name_alerts(typo_index, query):
    result = typo_index.screen(query, entity_type="individual")
    assert alerting(result) == ["C.034"], query
    assert "spelling difference" in result.best.explanation


@pytest.mark.parametrize("query", ["Lucien Nzambamwta", "Andre Kaluem", "Lucine Nzambamwita"])
def test_other_one_letter_typos_alert(typo_index, query):
    assert alerting(typo_index.screen(query, entity_type="individual")) == ["C.034"], query


def test_a_typo_does_not_make_an_unrelated_name_alert(typo_index):
    assert not typo_index.screen("Lucien Mbemba", entity_type="individual").alert
    assert not typo_index.screen("Andrew Kaplan", entity_type="individual").alert


def test_an_agreeing_nationality_or_year_lets_a_common_name_alert(typo_index):
    alone = typo_index.screen("Mohammed Hassan", entity_type="individual")
    assert "M.100" not in alerting(alone)
    own = next(m for m in alone.matches if m.entry_id == "M.100")
    assert "common name only; no second attribute agrees" in own.explanation
    by_country = typo_index.screen("Mohammed Hassan", entity_type="individual", country="Jordan")
    assert "M.100" in alerting(by_country)
    assert "country Jordan agrees" in next(m for m in by_country.matches if m.entry_id == "M.100").explanation
    assert "M.100" in alerting(typo_index.screen("Mohammed Hassan", entity_type="individual", date_of_birth="1970"))
    assert "M.100" not in alerting(typo_index.screen("Mohammed Hassan", country="Syria", date_of_birth="1980"))


def test_a_low_quality_alias_is_still_matched(typo_index):
    result = typo_index.screen("Abu Hasan", entity_type="individual", date_of_birth="1970")
    own = next(m for m in result.matches if m.entry_id == "M.100")
    assert own.name == "Abu Hasan"
    assert own.details["quality"] == "Low"
    assert own.alert


def test_a_missing_middle_name_alerts_when_the_rest_is_distinctive(index):
    assert "X.001" in alerting(index.screen("Zubayr al-Maqdisi"))
    # a shared common first name and nothing else does not
    assert "X.001" not in alerting(index.screen("Zubayr Smith"))


def test_misspelt_generic_words_stay_generic(typo_index):
    result = typo_index.screen("Namchongang Traddeeng Corporration", entity_type="entity")
    assert alerting(result) == ["E.001"]
    assert "generic words: Traddeeng, Corporration" in result.best.explanation
    # misspelt generic words alone are still generic words alone
    assert not typo_index.screen("Tradeeng Corporration", entity_type="entity").alert


def test_arabic_initial_waw_and_taa_marbuta_read_as_in_latin():
    latin_only = NameIndex()
    latin_only.add("W.001", "TEST", names=["WALIJAN"], entity_type="individual", dates_of_birth=["1968"])
    latin_only.add("W.002", "TEST", names=["ASBAT AL-ANSAR"], entity_type="entity")
    assert "W.001" in alerting(latin_only.screen("ولی جان", entity_type="individual", date_of_birth="1968"))
    assert "W.002" in alerting(latin_only.screen("عصبة الأنصار", entity_type="entity"))


@pytest.fixture(scope="module")
def officer_index():
    """Made-up listed people, with filler entries so that their name parts are not the only ones indexed."""
    built = NameIndex()
    for number, surname in enumerate(SURNAMES):
        built.add(f"F{number:03d}", "TEST", names=[f"Khalil Ibrahim {surname}"], entity_type="individual")
    built.add(
        "P.001",
        "TEST",
        names=[("Abu Mansoor Asim", "alias", "Good"), ("Asim Tarabulsi Mansoor", "primary", "")],
        entity_type="individual",
        dates_of_birth=["1978"],
        countries=["Pakistan"],
    )
    built.add("P.002", "TEST", names=["Ameer Salman Nuqrashi"], entity_type="individual", dates_of_birth=["1966"])
    built.add("P.003", "TEST", names=["Salim Mansur Zurqani"], entity_type="individual", dates_of_birth=["1971"])
    built.add(
        "P.004",
        "TEST",
        names=["Usama Husayn Wardaghi", ("أسامة حسين الورداغي", "original_script", "")],
        entity_type="individual",
        dates_of_birth=["1962-04-01"],
        countries=["Sudan"],
    )
    return built


def test_a_contradicting_date_of_birth_does_not_alert(officer_index):
    result = officer_index.screen("Asim Tarabulsi Mansoor", entity_type="individual", date_of_birth="1962-07-01")
    assert not result.alert
    own = next(m for m in result.matches if m.entry_id == "P.001")
    assert "date of birth 1962 differs from the list (1978)" in own.explanation
    assert "سنة الميلاد 1962 تختلف عن القائمة (1978)" in own.explanation_ar
    # within a year is no contradiction
    assert "P.001" in alerting(officer_index.screen("Asim Tarabulsi Mansoor", date_of_birth="1977"))
    assert "P.001" in alerting(officer_index.screen("Asim Tarabulsi Mansoor", date_of_birth="1978"))


@pytest.mark.parametrize("date_of_birth", [None, "1962"])
def test_one_skeleton_with_the_vowels_elsewhere_is_another_name(officer_index, date_of_birth):
    options = {"entity_type": "individual", "date_of_birth": date_of_birth}
    # Sami / Asim, Salma / Salim, عمر / Ameer share a consonant skeleton but not their vowels
    assert "P.001" not in alerting(officer_index.screen("Sami Mansour", **options))
    assert "P.003" not in alerting(officer_index.screen("Salma Mansour Zurqani", **options))
    assert "P.002" not in alerting(officer_index.screen("عمر سليمان النقراشي", **options))
    assert "P.002" not in alerting(officer_index.screen("Omar Salman Nuqrashi", **options))


@pytest.mark.parametrize(
    "query",
    [
        "Osama Hussein Wardaghi",
        "Usamah Hossein al-Wardaghi",
        "Ousama Husain Wardaghy",
        "أسامه حسين ورداغي",
    ],
)
def test_transliterations_of_one_name_still_alert(officer_index, query):
    result = officer_index.screen(query, entity_type="individual", country="Sudan", date_of_birth="1962-04-01")
    assert alerting(result) == ["P.004"], query


def test_the_same_skeleton_with_agreeing_vowels_still_matches():
    from shafaf.matching.translit import arabic_latin_vowels_conflict, latin_vowels_conflict

    for first, second in [("mohammed", "muhammad"), ("hussein", "husayn"), ("yousef", "yusuf"), ("fahd", "fahad")]:
        assert not latin_vowels_conflict(first, second), (first, second)
    for first, second in [("sami", "asim"), ("salma", "salim"), ("mahmoud", "mohammed"), ("omar", "ameer")]:
        assert latin_vowels_conflict(first, second), (first, second)
    assert not arabic_latin_vowels_conflict("محمود", "mahmoud")
    assert arabic_latin_vowels_conflict("محمود", "mohammed")
    assert arabic_latin_vowels_conflict("سامي", "asim")
    assert arabic_latin_vowels_conflict("عمر", "ameer")


# --- rules added for person names, candidate ranking, Arabic–Latin vowels and generic words ---------------------


def test_organisation_words_are_name_words_between_persons():
    index = NameIndex()
    index.add("P1", "T", names=["Mohammad Islami"], entity_type="individual")
    index.add("E1", "T", names=["Islamic Relief Front"], entity_type="entity")
    assert [t.role for t in analyze("Mohammad Islami", generic=False)] == ["name", "name"]
    result = index.screen("Mohammad Islami", entity_type="individual")
    assert result.alert and result.best.entry_id == "P1"
    assert "generic" not in result.best.explanation
    # an organisation screened against organisations still reads its generic words
    assert [t.role for t in analyze("Islamic Relief Front")] == ["generic", "generic", "generic"]


def test_agreeing_year_of_birth_ranks_a_namesake_before_the_cut():
    index = NameIndex()
    for number in range(200):
        index.add(f"N{number}", "T", names=["Muhammad Ahmad Khan"], entity_type="individual", dates_of_birth=["1980"])
    index.add("OWN", "T", names=["Muhammad Ahmad Khan"], entity_type="individual", dates_of_birth=["1949"])
    result = index.screen("Muhammad Ahmad", entity_type="individual", date_of_birth="1949")
    assert any(m.entry_id == "OWN" and m.alert for m in result.matches)


def test_a_name_written_twice_in_the_list_is_found():
    index = NameIndex()
    index.add("R1", "T", names=["Bahmanyar Morteza Bahmanyar"], entity_type="individual", dates_of_birth=["1952"])
    result = index.screen("Bahmanyar Bahmanyar", entity_type="individual", date_of_birth="1952")
    assert result.best is not None and result.best.entry_id == "R1"


def test_arabic_latin_vowel_difference_is_accepted_when_the_other_parts_agree():
    index = NameIndex()
    index.add("V1", "T", names=["RUKAN RAZUKI ABD-AL-GHAFUR SULAIMAN AL-TIKRITI"], entity_type="individual")
    result = index.screen("روكان رزوقي عبد الغفار سليمان التكريتي", entity_type="individual")
    assert result.alert
    assert "the vowels differ" in result.best.explanation
    # alone, the same pair is still kept apart by the vowel rule
    lone = NameIndex()
    lone.add("V2", "T", names=["Ghafur"], entity_type="individual")
    assert not lone.screen("الغفار", entity_type="individual").alert


def test_pashto_and_urdu_letters_have_latin_keys():
    for arabic, latin in [("ځدران", "Zadran"), ("ډاکټر", "Daktar"), ("ښکلی", "Shkali"), ("ړ", "r"), ("ڼ", "n")]:
        assert set(arabic_keys(normalize_arabic(arabic))) & set(latin_keys(normalize_latin(latin)))


def test_arabic_organisation_words_map_to_their_latin_concepts():
    pairs = [("جبهة", "front"), ("حركة", "movement"), ("جماعة", "group"), ("تنظيم", "organisation")]
    pairs += [("كتائب", "brigades"), ("سرايا", "brigades"), ("لواء", "brigade"), ("أنصار", "supporters")]
    pairs += [("بليبيا", "Libya"), ("للصرافة", "exchange")]
    for arabic, latin in pairs:
        (a,) = analyze(arabic)
        (b,) = analyze(latin)
        assert a.role == b.role == "generic" and a.concept == b.concept, (arabic, latin)


def test_a_misspelt_place_is_generic_in_an_organisation_name_only():
    assert analyze("Leebyan Society")[0].concept == "place:libya"
    assert analyze("Leebyan", generic=False)[0].role == "name"


def test_a_listed_name_of_two_names_joined_by_a_slash():
    index = NameIndex()
    index.add("S1", "T", names=["AL-ITIHAAD AL-ISLAMIYA / AIAI"], entity_type="entity")
    assert index.screen("الاتحاد الاسلامي", entity_type="entity").alert


def _with_common_names(index: NameIndex) -> None:
    """Fillers that make Ali and Ahmad as common in the index as they are on real lists."""
    letters = "bdfgklmnprstz"
    for number in range(120):
        surname = "Qu" + letters[number % 13] + "a" + letters[(number // 13) % 13] + "ouni"
        index.add(f"F{number:03d}", "TEST", names=[f"Ali Ahmad {surname}"], entity_type="individual")


def test_arabic_latin_vowel_difference_needs_support_from_names_that_are_not_common():
    index = NameIndex()
    _with_common_names(index)
    index.add("V3", "TEST", names=[("حامد علي أحمد", "original_script", "")], entity_type="individual")
    index.add("V4", "TEST", names=[("حامد زرقطوني بلطاوي", "original_script", "")], entity_type="individual")
    # Ahmed / حامد differ in their vowels; Ali and Ahmed agreeing besides is a coincidence of common names
    common = index.screen("Ahmed Ali Ahmed", entity_type="individual")
    assert "V3" not in alerting(common)
    # two rare parts that agree vouch for the vowel difference
    rare = index.screen("Ahmed Zarqatouni Baltawi", entity_type="individual")
    assert "V4" in alerting(rare)
    assert "the vowels differ" in rare.best.explanation


def test_a_short_name_with_a_particle_is_no_acronym():
    index = NameIndex()
    index.add("K1", "TEST", names=["Abu Ruqa"], entity_type="individual")
    assert "K1" in alerting(index.screen("Abbu Ruqe", entity_type="individual"))
    index.add("K2", "TEST", names=["EDF"], entity_type="entity")
    assert "K2" not in alerting(index.screen("EDV", entity_type="entity"))


def test_an_article_split_from_its_name_by_a_slip():
    index = NameIndex()
    index.add("J1", "TEST", names=["Nasir Al-Zawbari"], entity_type="individual")
    assert "J1" in alerting(index.screen("Nasir AlZ-awbari", entity_type="individual"))


def test_an_arabic_word_split_after_two_letters_is_read_whole():
    index = NameIndex()
    index.add("W1", "TEST", names=["Zubair Maytchou"], entity_type="individual")
    assert "W1" in alerting(index.screen("زبير ما يتشو", entity_type="individual"))


def test_cached_similarities_give_the_same_results_and_follow_new_entries(index):
    first = index.screen("Muhammad Ahmad Qasimi", entity_type="individual")
    again = index.screen("Muhammad Ahmad Qasimi", entity_type="individual")
    assert first == again
    fresh = NameIndex()
    fresh.add("N1", "TEST", names=["Qadir Zawbari"], entity_type="individual")
    assert fresh.screen("Qadir Zawbari").alert
    fresh.add("N2", "TEST", names=["Qadir Zawbari Nuri"], entity_type="individual")
    assert {"N1", "N2"} <= {m.entry_id for m in fresh.screen("Qadir Zawbari").matches}
