import math
import random
from decimal import Decimal

import pytest

from shafaf.coordination.index import (
    BENEFICIARY_WIDTH,
    BUDGET_WIDTH,
    START_WIDTH,
    TEXT_KEYS,
    CandidateIndex,
    blocking_keys,
    select_keys,
)

from .synthetic_records import RecordGenerator, blank_record, load_templates


def bare(id, **fields):
    return blank_record(**{"id": id, "ref": f"REF-{id}", "notes": ["no_text"], **fields})


@pytest.fixture(scope="module")
def generator():
    return RecordGenerator(load_templates(pattern="*covid_linked*"), seed=3, villages=20_000, partners=2_000)


@pytest.fixture(scope="module")
def corpus(generator):
    return generator.records(4_000)


@pytest.fixture(scope="module")
def built(corpus):
    return CandidateIndex.build(corpus)


def test_resubmissions_are_found_among_the_candidates(generator, corpus, built):
    rng = random.Random(5)
    originals = rng.sample(corpus, 150)
    found = 0
    for number, original in enumerate(originals):
        twin = generator.resubmission(original, id=900_000 + number)
        candidates = built.candidates(twin)
        assert len(candidates) <= 200
        found += original["id"] in candidates
    assert found / len(originals) >= 0.99


def test_an_arabic_version_with_another_partner_record_is_found(built, corpus):
    original = corpus[10]
    twin = dict(original, id=999_999, partner=None, partner_key="", title=[], langs=["ar"])
    twin["text"] = [t for t in original["text"] if t.startswith(("c:", "n:"))] + sorted(original["title"])
    assert original["id"] in built.candidates(twin, limit=20)


def test_candidates_never_include_the_record_itself_and_respect_the_limit(built, corpus):
    record = corpus[7]
    candidates = built.candidates(record, limit=15)
    assert record["id"] not in candidates
    assert 0 < len(candidates) <= 15
    assert built.candidates(record, limit=0) == []
    # the best candidate of a record's exact copy under another id is the record
    assert built.candidates(dict(record, id=123_456_789), limit=5)[0] == record["id"]


def test_get_round_trips_what_was_added(built, corpus):
    for record in corpus[:300]:
        assert built.get(record["id"]) == record
    assert len(built) == len(corpus)
    assert corpus[0]["id"] in built and -5 not in built
    with pytest.raises(KeyError):
        built.get(-5)


def test_get_round_trips_odd_values_too():
    index = CandidateIndex()
    records = [
        bare(1, country="IQ", sector="14030", lat=33.3, lon=44.4, budget_kwd=10**15, text=["c:well", "k:bsr"]),
        bare(2, country="IQ", lat=Decimal("33.3"), lon=Decimal("44.4"), extra="kept"),
        bare(3, ref="غزة-٣", partner_key="mhmd", areas=["gz"], quantities=["well:10"], langs=["ar", "en"]),
        bare(4, budget_kwd=2**70, notes=["budget_ignored", "dates_ignored"]),
    ]
    for record in records:
        index.add(record)
    for record in records:
        assert index.get(record["id"]) == record
    # the returned dict is a copy
    index.get(1)["text"].append("c:x")
    assert index.get(1)["text"] == ["c:well", "k:bsr"]


def test_remove_and_re_add(built, corpus, generator):
    index = CandidateIndex.build(corpus[:1_000])
    original = corpus[20]
    twin = generator.resubmission(original, id=800_000)
    assert original["id"] in index.candidates(twin)
    index.remove(original["id"])
    assert original["id"] not in index
    assert len(index) == 999
    assert original["id"] not in index.candidates(twin)
    with pytest.raises(KeyError):
        index.get(original["id"])
    index.remove(original["id"])  # removing twice is harmless
    changed = dict(original, ref="CHANGED")
    index.add(changed)
    assert index.get(original["id"]) == changed
    assert original["id"] in index.candidates(twin)
    # a record added after the build replaces the built one with the same id
    other = corpus[30]
    moved = dict(other, ref="MOVED", text=["k:zzqx"], title=[], areas=[], lat=None, lon=None)
    index.add(moved)
    assert len(index) == 1_000
    assert index.get(other["id"]) == moved
    probe = bare(1, country=other["country"], text=["k:zzqx"])
    assert index.candidates(probe)[0] == other["id"]
    index.remove(other["id"])
    assert other["id"] not in index.candidates(probe)
    # merging the added records into the built postings changes nothing
    before = index.candidates(twin, limit=2_000)
    index.compact()
    after = index.candidates(twin, limit=2_000)
    assert set(after) == set(before) and after[0] == before[0] == original["id"]
    assert index.get(original["id"]) == changed


def test_an_index_filled_by_add_alone_finds_candidates(corpus, generator):
    index = CandidateIndex()
    for record in corpus[:500]:
        index.add(record)
    twin = generator.resubmission(corpus[42], id=700_000)
    assert corpus[42]["id"] in index.candidates(twin)
    assert index.memory_bytes() > 0


def test_build_keeps_the_last_record_of_an_id(corpus):
    first, second = corpus[0], dict(corpus[1], id=corpus[0]["id"])
    index = CandidateIndex.build([first, corpus[2], second])
    assert len(index) == 2
    assert index.get(first["id"]) == second


def test_a_record_with_almost_nothing_gets_country_and_sector_neighbours_or_nothing():
    records = [bare(i, country="YE", sector="12240") for i in range(1, 30)]
    records += [bare(i, country="SO", sector="12240") for i in range(30, 40)]
    records.append(bare(40))
    index = CandidateIndex.build(records)
    query = bare(1000, country="YE", sector="12240")
    candidates = index.candidates(query)
    assert set(candidates) == set(range(1, 30))
    assert candidates[:3] == [29, 28, 27]  # ties: newest first
    assert index.candidates(bare(1001, country="FR", sector="11110")) == []
    assert index.candidates(bare(1002)) == [40]
    assert CandidateIndex().candidates(query) == []
    assert index.candidates({"id": 5, "text": None, "areas": None, "lat": "x", "budget_kwd": "?"}) == [40]


def test_blocking_keys_are_stable_and_documented():
    record = bare(
        1,
        country="YE",
        sector="14030",
        partner=77,
        partner_key="mhmd",
        areas=["sn", "tz"],
        quantities=["well:10"],
        text=["c:well", "k:tz"],
        lat=15.3694,
        lon=44.191,
        budget_kwd=5_000_000,
        start=19_000,
        beneficiaries=1_200,
    )
    keys = blocking_keys(record)
    assert keys == blocking_keys(dict(record, areas=["tz", "sn"], text=["k:tz", "c:well"]))
    assert {"s:YE:14030", "p:YE:77", "pk:YE:mhmd", "a:YE:sn", "q:YE:well:10", "t:YE:c:well", "t:YE:k:tz"} <= keys
    assert "g:YE:307:883" in keys and "g:YE:306:882" in keys and "g:YE:308:884" in keys
    assert sum(key.startswith("g:") for key in keys) == 9
    bucket = math.floor(math.log(5_000_000) / BUDGET_WIDTH)
    assert f"b0:YE:140:{bucket}" in keys
    assert f"d0:YE:140:{19_000 // START_WIDTH}" in keys
    assert {key.split(":")[0] for key in keys} >= {"b1", "d1", "n0", "n1", "x00", "x01", "x10", "x11"}
    assert blocking_keys(bare(2)) == {"s:-:-"}
    assert blocking_keys({"id": 3}) == {"s:-:-"}


def test_near_values_share_keys():
    rng = random.Random(11)
    for _ in range(500):
        lat, lon = rng.uniform(-40, 60), rng.uniform(-120, 150)
        distance, bearing = rng.uniform(0, 3.0), rng.uniform(0, 2 * math.pi)
        moved_lat = lat + distance / 111.2 * math.cos(bearing)
        moved_lon = lon + distance / (111.2 * math.cos(math.radians(lat))) * math.sin(bearing)
        budget = rng.randint(1_000, 10**10)
        start = rng.randint(0, 25_000)
        count = rng.randint(1, 10**6)
        a = bare(1, country="SD", sector="12240", lat=lat, lon=lon, budget_kwd=budget, start=start, beneficiaries=count)
        b = bare(
            2,
            country="SD",
            sector="12240",
            lat=moved_lat,
            lon=moved_lon,
            budget_kwd=max(1, round(budget * rng.uniform(0.85, 1.15))),
            start=start + rng.randint(-183, 183),
            beneficiaries=max(1, round(count * rng.uniform(0.8, 1.2))),
        )
        shared = {key.split(":")[0] for key in blocking_keys(a) & blocking_keys(b)}
        assert "g" in shared
        assert shared & {"b0", "b1"}
        assert shared & {"d0", "d1"}
        assert shared & {"n0", "n1"}
        assert shared & {"x00", "x01", "x10", "x11"}
    assert math.log(1.2 / 0.8) < BENEFICIARY_WIDTH / 2


def test_select_keys_keeps_the_rarest_text_keys():
    keys = {f"t:YE:k:w{i}" for i in range(50)} | {"s:YE:-", "p:YE:1"}
    frequency = {f"t:YE:k:w{i}": 100 - i for i in range(50)}
    chosen = select_keys(keys, frequency)
    assert {"s:YE:-", "p:YE:1"} <= chosen
    text = {key for key in chosen if key.startswith("t:")}
    assert len(text) == TEXT_KEYS
    assert text == {f"t:YE:k:w{i}" for i in range(50 - TEXT_KEYS, 50)}
    assert select_keys(keys, lambda key: 0) == select_keys(keys, {})


def test_stop_keys_are_skipped_but_never_all_of_them(monkeypatch):
    import shafaf.coordination.index as index_module

    monkeypatch.setattr(index_module, "STOP_MIN", 10)
    monkeypatch.setattr(index_module, "STOP_FRACTION", 0.0)
    records = [bare(i, country="YE", sector="12240", text=["c:water"]) for i in range(1, 50)]
    records.append(bare(50, country="YE", sector="12240", text=["c:water", "k:rare"]))
    index = CandidateIndex.build(records)
    # the common keys are stop keys: the rare one decides
    assert index.candidates(bare(99, country="YE", sector="12240", text=["c:water", "k:rare"])) == [50]
    # only stop keys: the rarest is read all the same
    assert len(index.candidates(bare(98, country="YE", sector="12240", text=["c:water"]))) == 50


def test_records_of_build_record_round_trip_and_find_their_arabic_version():
    import datetime

    from shafaf.coordination.record import build_record

    english = build_record(
        id=1,
        ref="XM-1",
        charity=1,
        title_en="Drilling 10 wells in Tal Afar, Ninewa",
        description_en="The project drills ten water wells for displaced families in Tal Afar district, Iraq.",
        country="IQ",
        sector="14030",
        partner=5,
        partner_name="Al-Rahma Society",
        budget_kwd=5_000_000,
        start=datetime.date(2024, 1, 1),
        end=datetime.date(2024, 12, 31),
        points=[(36.37, 42.45)],
        areas=["Ninewa"],
    )
    other = build_record(id=2, ref="XM-2", charity=3, title_en="School meals in Basra", country="IQ", sector="11220")
    arabic = build_record(
        id=3,
        ref="XM-3",
        charity=2,
        title_ar="حفر ١٠ آبار في تلعفر، نينوى",
        description_ar="يحفر المشروع عشرة آبار مياه للأسر النازحة في قضاء تلعفر في العراق",
        country="IQ",
        sector="14030",
        partner_name="جمعية الرحمة",
        budget_kwd=5_400_000,
        start=datetime.date(2024, 3, 1),
        end=datetime.date(2025, 2, 28),
        points=[(36.38, 42.47)],
        areas=["نينوى"],
    )
    index = CandidateIndex.build([english, other])
    assert index.get(1) == english and index.get(2) == other
    assert index.candidates(arabic)[0] == 1
