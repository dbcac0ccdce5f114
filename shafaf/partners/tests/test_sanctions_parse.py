"""The sanctions list parsers on the real files, and on broken ones."""

import hashlib
from pathlib import Path

import pytest

from shafaf.partners.sanctions_parse import ParsedName, SanctionsFileError, parse_ofac, parse_un, split_alias

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sanctions"
UN_FILE = DATA / "un" / "UN_consolidated.xml"
OFAC = DATA / "ofac_sdn"


@pytest.fixture(scope="module")
def un():
    return parse_un(UN_FILE)


def entry(parsed, entry_id):
    return next(e for e in parsed.entries if e.entry_id == entry_id)


def test_un_counts(un):
    assert un.source == "un"
    assert un.published == "2026-02-27T00:00:09.554Z"
    assert len(un.entries) == 1003
    assert sum(e.entity_type == "individual" for e in un.entries) == 730
    assert sum(e.entity_type == "entity" for e in un.entries) == 273
    assert sum(any(n.kind == "original_script" for n in e.names) for e in un.entries) == 378
    arabic = [e for e in un.entries if any("\u0600" <= c <= "\u06ff" for n in e.names for c in n.text)]
    assert len(arabic) == 368
    # 2,752 non-empty ALIAS_NAME elements; the 27 that hold several names are split
    aliases = [n for e in un.entries for n in e.names if n.kind in ("alias", "former")]
    assert len(aliases) == 2892
    assert un.sha256 == hashlib.sha256(UN_FILE.read_bytes()).hexdigest()


def test_un_individual_fields(un):
    first = entry(un, "QDi.001")
    assert first.entity_type == "individual"
    assert first.primary_name == "MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE"
    assert first.names[0] == ParsedName("MOHAMMED SALAHALDIN ABD EL HALIM ZIDANE", "primary")
    assert ParsedName("Sayf-Al Adl", "alias", "Good") in first.names
    assert ParsedName("Seif al Adel", "alias", "Low") in first.names
    assert first.names[-1] == ParsedName("محمد صلاح الدين عبدالحليم زيدان", "original_script")
    assert first.dates_of_birth == ("1963-04-11", "1960-04-11")
    assert first.nationalities == ("Egypt",)
    assert first.programs == ("Al-Qaida",)
    assert first.listed_on == "2001-01-25"
    assert "security" in first.remarks


def test_un_entity_with_arabic_name_and_split_alias(un):
    hts = next(e for e in un.entries if any("Tahrir al-Sham" in n.text for n in e.names))
    assert hts.entity_type == "entity"
    texts = [n.text for n in hts.names]
    assert "هيئة تحرير الشام" in texts
    assert "Assembly for the Liberation of Syria" in texts
    assert not any(";" in text for text in texts)


def test_un_year_ranges_become_years(un):
    ranged = [e for e in un.entries if len([d for d in e.dates_of_birth if len(d) == 4]) >= 3]
    assert ranged, "some individuals are born between two years"


def test_split_alias():
    assert split_alias("Qasim Soleimani; Qasem Sulaimani") == ["Qasim Soleimani", "Qasem Sulaimani"]
    assert split_alias("حسن غول (Hassan Ghul; Hassan Gul)") == ["حسن غول", "Hassan Ghul", "Hassan Gul"]
    assert split_alias("Abu Hafs") == ["Abu Hafs"]
    assert split_alias("  ") == []


def test_ofac_2019_entry_306():
    parsed = parse_ofac(OFAC / "sdn.csv")
    assert parsed.source == "ofac"
    assert len(parsed.entries) == 7379
    bank = entry(parsed, "306")
    assert bank.primary_name == "BANCO NACIONAL DE CUBA"
    assert bank.entity_type == "entity"
    assert ParsedName("NATIONAL BANK OF CUBA", "alias", "aka") in bank.names
    assert bank.programs == ("CUBA",)
    assert "Spain" in bank.countries
    assert "Zweierstrasse 35, Zurich CH-8022, Switzerland" in bank.addresses
    zawahiri = entry(parsed, "2676")
    assert zawahiri.entity_type == "individual"
    assert zawahiri.dates_of_birth == ("1951-06-19",)
    assert zawahiri.programs == ("SDGT", "SDT")


def test_ofac_2021_bench_set_by_folder_name():
    parsed = parse_ofac(OFAC / "bench_sdn.csv")
    assert len(parsed.entries) == 8976  # the 8,977th line is the end-of-file mark
    assert sum(len(e.names) - 1 for e in parsed.entries) == 11910
    expected = hashlib.sha256()
    for name in ("bench_sdn.csv", "bench_alt.csv", "bench_add.csv", "bench_sdn_comments.csv"):
        expected.update((OFAC / name).read_bytes())
    assert parsed.sha256 == expected.hexdigest()


def test_progress_is_reported(tmp_path):
    calls = []
    parse_un(UN_FILE, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (1003, 1003)


UN_MINIMAL = b"""<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2026-01-01"><INDIVIDUALS><INDIVIDUAL>
<FIRST_NAME>ZUBAYR</FIRST_NAME><SECOND_NAME>MAQDISI</SECOND_NAME><REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1960</FROM_YEAR><TO_YEAR>1962</TO_YEAR>
</INDIVIDUAL_DATE_OF_BIRTH></INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"""


def test_un_from_bytes():
    parsed = parse_un(UN_MINIMAL)
    assert parsed.entries[0].primary_name == "ZUBAYR MAQDISI"
    assert parsed.entries[0].dates_of_birth == ("1960", "1961", "1962")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"this is not xml", "not well-formed XML"),
        (b"<CONSOLIDATED_LIST><INDIVIDUALS>", "not well-formed XML"),
        (b"<OTHER_LIST/>", "root element is <OTHER_LIST>"),
        (b"<CONSOLIDATED_LIST><INDIVIDUALS/><ENTITIES/></CONSOLIDATED_LIST>", "no INDIVIDUAL or ENTITY"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><CONSOLIDATED_LIST/>', "DOCTYPE declaration"),
        (b"<CONSOLIDATED_LIST>\xff\xfe</CONSOLIDATED_LIST>", "not UTF-8"),
        (UN_MINIMAL.replace(b"<REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER>", b""), "has no REFERENCE_NUMBER"),
        (UN_MINIMAL.replace(b"ZUBAYR", b"").replace(b"MAQDISI", b""), "has no name"),
    ],
)
def test_un_malformed(content, message):
    with pytest.raises(SanctionsFileError, match=message):
        parse_un(content)


def test_un_missing_file(tmp_path):
    with pytest.raises(SanctionsFileError, match="does not exist"):
        parse_un(tmp_path / "nothing.xml")


def write_ofac(folder: Path, sdn: bytes, alt: bytes = b"", add: bytes = b"") -> Path:
    (folder / "sdn.csv").write_bytes(sdn)
    (folder / "alt.csv").write_bytes(alt)
    (folder / "add.csv").write_bytes(add)
    return folder / "sdn.csv"


GOOD_ROW = b'10,"QASIMI, Hamid","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB circa 1970."\n'


def test_ofac_small_folder(tmp_path):
    write_ofac(tmp_path, GOOD_ROW, b'10,1,"aka","AL-QASIMI, Hamid",-0- \n', b'10,5,-0- ,"Amman","Jordan",-0- \n')
    parsed = parse_ofac(tmp_path)
    only = parsed.entries[0]
    assert only.entry_id == "10"
    assert only.entity_type == "individual"
    assert only.dates_of_birth == ("1970",)
    assert only.names[1] == ParsedName("AL-QASIMI, Hamid", "alias", "aka")
    assert only.countries == ("Jordan",)
    assert only.addresses == ("Amman, Jordan",)


@pytest.mark.parametrize(
    ("sdn", "alt", "message"),
    [
        (b"", b"", "is empty"),
        (b'10,"QASIMI, Hamid","individual"\n', b"", "line 1 has 3 columns, 12 expected"),
        (GOOD_ROW.replace(b"10,", b"X1,", 1), b"", "'X1' is not a number"),
        (GOOD_ROW + GOOD_ROW, b"", "entry number 10 twice"),
        (GOOD_ROW.replace(b"Hamid", b"Ham\xe9d"), b"", "not UTF-8"),
        (GOOD_ROW, b'10,1,"aka"\n', "alt.csv line 1 has 3 columns, 5 expected"),
    ],
)
def test_ofac_malformed(tmp_path, sdn, alt, message):
    path = write_ofac(tmp_path, sdn, alt)
    with pytest.raises(SanctionsFileError, match=message):
        parse_ofac(path)


def test_ofac_missing_companion_file(tmp_path):
    (tmp_path / "sdn.csv").write_bytes(GOOD_ROW)
    with pytest.raises(SanctionsFileError, match=r"alt\.csv is missing"):
        parse_ofac(tmp_path / "sdn.csv")


def test_ofac_wrong_file_name(tmp_path):
    (tmp_path / "list.csv").write_bytes(GOOD_ROW)
    with pytest.raises(SanctionsFileError, match=r"should end in sdn\.csv"):
        parse_ofac(tmp_path / "list.csv")
