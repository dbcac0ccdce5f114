import json
import math
import random
from collections import Counter

import duckdb
import pyarrow as pa
import pytest

from shafaf.coordination import model as M

from .synthetic_records import blank_record


def make_record(**over):
    return blank_record(**{"id": 1, "ref": "XM-1", **over})


def random_record(rng: random.Random, i: int) -> dict:
    """A record drawn from small pools so that every level of every signal occurs often."""
    pool = [f"k:t{j}" for j in range(14)] + ["c:well", "c:school", "n:10"]

    def tokens(k):
        return sorted(rng.sample(pool, rng.choice([0, 1, 3, 5, k])))

    located = rng.random() < 0.7
    lat = 15.3 + rng.gauss(0, 0.08) if located else None
    lon = 44.2 + rng.gauss(0, 0.08) if located else None
    start = rng.choice([None, 18000, 18100, 18200, 18300])
    end = None if start is None else start + rng.choice([0, 30, 180, 365])
    return make_record(
        id=i,
        ref=f"XM-{i}",
        charity=rng.choice([1, 2, 3]),
        partner=rng.choice([None, 1, 2, 3]),
        partner_key=rng.choice(["", "", "hlf", "rhm"]),
        country=rng.choice(["", "YE", "YE", "SY"]),
        sector=rng.choice(["", "14030", "14031", "15110", "14030"]),
        group=rng.choice(["", "children", "women"]),
        beneficiaries=rng.choice([None, 100, 95, 80, 50, 10, 1000]),
        budget_kwd=rng.choice([None, 1_000_000, 920_000, 700_000, 300_000, 9 * 10**15]),
        start=start,
        end=end,
        lat=lat,
        lon=lon,
        areas=sorted(rng.sample(["sn", "tz", "adn", "hdyd"], rng.choice([0, 1, 2]))),
        text=tokens(10),
        title=tokens(4),
        quantities=sorted(rng.sample(["well:10", "well:12", "school:3", "classroom:6"], rng.choice([0, 1, 2]))),
        langs=sorted(rng.sample(["ar", "en", "fr"], rng.choice([0, 1, 1, 2]))),
    )


def _arrow_type(kind):
    return {
        "int64": pa.int64(),
        "string": pa.string(),
        "float64": pa.float64(),
        "list<string>": pa.list_(pa.string()),
    }[kind]


def pairs_table(pairs):
    """A table with one row per pair and the columns <column>_l / <column>_r."""
    cols = {}
    fields = []
    rows = [(M.record_row(a), M.record_row(b)) for a, b in pairs]
    for column, (_, kind) in M.TABLE_COLUMNS.items():
        for side, k in (("l", 0), ("r", 1)):
            name = f"{column}_{side}"
            fields.append(pa.field(name, _arrow_type(kind)))
            cols[name] = [r[k][column] for r in rows]
    schema = pa.schema(fields)
    return pa.table({f.name: pa.array(cols[f.name], type=f.type) for f in schema}, schema=schema)


def test_sql_and_python_give_the_same_level_for_every_signal():
    rng = random.Random(7)
    records = [random_record(rng, i) for i in range(300)]
    pairs = [tuple(rng.sample(records, 2)) for _ in range(600)]
    pairs += [(r, r) for r in records[:20]]  # identical pairs reach the top levels
    # and pairs whose long titles differ by one token reach the band just below
    long_title = [f"k:w{j}" for j in range(9)]
    pairs += [(dict(r, title=long_title), dict(r, title=[*long_title[:8], "k:other"])) for r in records[20:30]]
    table = pairs_table(pairs)
    con = duckdb.connect()
    con.register("pairs", table)
    select = ", ".join(f"{c.case_sql('duckdb')} AS {c.signal}" for c in M.COMPARISONS)
    sql_levels = con.execute(f"SELECT {select} FROM pairs").fetchall()  # noqa: S608
    seen = Counter()
    for (a, b), row in zip(pairs, sql_levels, strict=True):
        py = M.comparison_levels(a, b)
        for c, sql_level in zip(M.COMPARISONS, row, strict=True):
            assert sql_level == py[c.signal], (c.signal, a, b)
            seen[(c.signal, sql_level)] += 1
    # the sample reaches every level of every signal, so the check is not vacuous
    missing = [(c.signal, lv) for c in M.COMPARISONS for lv in c.level_names if not seen[(c.signal, lv)]]
    assert missing == []


def test_spark_sql_uses_spark_functions():
    sql = M.COMPARISONS[0].case_sql("spark")
    assert "array_intersect(text_tokens_l, text_tokens_r)" in sql and "list_intersect" not in sql


def test_haversine_matches_known_distance():
    # Sanaa to Aden is about 307 km
    assert M.haversine_km(15.3694, 44.1910, 12.7855, 45.0187) == pytest.approx(299.5, abs=10)
    assert M.haversine_km(10, 10, 10, 10) == 0


def test_compare_resubmission_scores_likely_with_reasons_in_both_languages():
    a = make_record(
        id=1,
        charity=1,
        partner=5,
        partner_key="hlf",
        country="YE",
        sector="14030",
        group="children",
        beneficiaries=500,
        budget_kwd=10_000_000,
        start=18000,
        end=18364,
        lat=15.35,
        lon=44.20,
        areas=["sn"],
        text=["c:water", "c:well", "k:hdyd", "k:sn", "n:10", "k:qry", "c:village"],
        title=["c:well", "k:sn"],
        quantities=["well:10"],
        langs=["ar"],
    )
    b = dict(
        a,
        id=2,
        charity=2,
        beneficiaries=1200,
        lat=15.355,
        lon=44.205,
        langs=["en"],
        text=["c:water", "c:well", "k:hdyd", "k:sn", "n:10", "k:qry", "k:mrb"],
    )
    s = M.compare(a, b, M.DEFAULT_PARAMS)
    assert M.level_for(s.score, likely=M.DEFAULT_LIKELY, possible=M.DEFAULT_POSSIBLE) == "likely"
    texts = {r["signal"]: r for r in s.reasons}
    assert texts["partner"]["text_en"] == "same implementing partner +7.9"
    assert texts["partner"]["text_ar"] == "الشريك المنفذ نفسه \u200e+7.9"
    assert texts["location"]["text_en"].startswith("sites 0.8 km apart +6.3")
    assert texts["location"]["text_ar"] == "الموقعان على بعد 0.8 كم \u200e+6.3"
    assert texts["text"]["text_en"] == "descriptions 0.75 similar across Arabic/English +11.1"
    assert texts["text"]["text_ar"] == "تشابه الوصفين 0.75 بين العربية والإنجليزية \u200e+11.1"
    assert texts["beneficiaries"]["text_en"] == "beneficiary counts differ 500 vs 1,200 \u22121.7"
    assert texts["beneficiaries"]["text_ar"] == "عدد المستفيدين مختلف 500 مقابل 1,200 \u200e\u22121.7"
    # ordered by |weight|, rounded to 0.1, the score is the prior plus the weights
    weights = [abs(r["weight"]) for r in s.reasons]
    assert weights == sorted(weights, reverse=True)
    assert all(r["weight"] == round(r["weight"], 1) for r in s.reasons)
    expected = M.DEFAULT_PARAMS.prior + sum(M.DEFAULT_PARAMS.weight(sig, lv) for sig, lv in s.levels.items())
    assert s.score == pytest.approx(expected)
    assert s.probability == pytest.approx(2**s.score / (1 + 2**s.score))


def test_missing_data_weighs_nothing_and_is_said():
    a = make_record(id=1, text=["k:a"], langs=["en"])
    b = make_record(id=2, text=["k:a"], langs=["en"])
    s = M.compare(a, b, M.DEFAULT_PARAMS)
    by = {r["signal"]: r for r in s.reasons}
    assert by["location"]["weight"] == 0 and by["location"]["text_en"] == "no location on one side: not compared"
    assert by["partner"]["text_ar"].endswith("لم تتم المقارنة")
    assert "crosslang" not in by  # no weight: said with the text reason
    assert s.score == pytest.approx(M.DEFAULT_PARAMS.prior + M.DEFAULT_PARAMS.weight("text", "ge_0_7"))
    for r in s.reasons:
        assert set(r) == {"signal", "level", "weight", "text_en", "text_ar"}


def test_unrelated_projects_score_below_possible():
    a = make_record(id=1, text=["k:a", "k:b"], country="YE", sector="14030", partner=1, langs=["en"])
    b = make_record(id=2, text=["k:c", "k:d"], country="SY", sector="11220", partner=2, langs=["en"])
    s = M.compare(a, b, M.DEFAULT_PARAMS)
    assert M.level_for(s.score, likely=12, possible=6) is None
    by = {r["signal"]: r for r in s.reasons}
    assert by["location"]["text_en"] == "different countries YE vs SY \u22127.3"
    assert by["sector"]["text_en"] == "different sectors 14030 vs 11220 \u22123.1"


def test_level_for_thresholds():
    assert M.level_for(12.0, likely=12, possible=6) == "likely"
    assert M.level_for(11.99, likely=12, possible=6) == "possible"
    assert M.level_for(6.0, likely=12, possible=6) == "possible"
    assert M.level_for(5.9, likely=12, possible=6) is None


def test_params_round_trip_and_validation():
    d = M.DEFAULT_PARAMS.to_dict()
    again = M.Params.from_dict(json.loads(json.dumps(d)))
    assert again == M.DEFAULT_PARAMS
    d["m"]["partner"]["same"] = 1.5
    with pytest.raises(ValueError):
        M.Params.from_dict(d)
    with pytest.raises(ValueError):
        M.Params.from_dict({"m": {}, "u": {}})
    partial = M.Params.from_dict({"prior": -10, "m": {"partner": {"same": 0.9}}})
    assert partial.m["partner"]["same"] == 0.9
    assert partial.u == M.DEFAULT_PARAMS.u
    assert partial.weight("partner", "null") == 0
    assert partial.weight("partner", "same") == pytest.approx(math.log2(0.9 / M.DEFAULT_PARAMS.u["partner"]["same"]))


def test_default_params_are_distributions():
    for kind in ("m", "u"):
        for c in M.COMPARISONS:
            total = sum(getattr(M.DEFAULT_PARAMS, kind)[c.signal].values())
            assert total == pytest.approx(1.0, abs=1e-9), (kind, c.signal)


def test_odd_records_never_crash():
    rng = random.Random(3)
    odd = [
        make_record(id=1),
        make_record(id=2, beneficiaries=1, budget_kwd=10**18, start=0, end=0, lat=89.9, lon=179.9),
        make_record(id=3, beneficiaries=10**9, budget_kwd=1, start=-5000, end=60000, lat=-89.9, lon=-179.9),
        make_record(id=4, quantities=["well:10", "well:11"], text=["x"] * 1, title=["x"], langs=["ar", "en"]),
    ]
    for a in odd:
        for b in [*odd, random_record(rng, 9)]:
            s = M.compare(a, b, M.DEFAULT_PARAMS)
            assert math.isfinite(s.score)
            assert all(r["text_en"] and r["text_ar"] for r in s.reasons)


def test_the_same_template_in_another_village_is_no_likely_duplicate():
    """A charity's template text run in a village 40 km away (other area, other counts) is at most a possible
    overlap, while the same text at the same site is a likely duplicate."""
    a = make_record(
        id=1,
        charity=1,
        partner=7,
        partner_key="rhm",
        country="SD",
        sector="14030",
        group="families",
        text=["c:dig", "c:well", "c:water", "k:dr", "n:10", "c:village"],
        title=["c:dig", "c:well", "k:dr"],
        quantities=["well:10"],
        lat=13.0,
        lon=30.0,
        areas=["k:dr"],
        beneficiaries=1000,
        budget_kwd=20_000_000,
        start=20000,
        end=20365,
        langs=["en"],
    )
    same_site = dict(a, id=2, charity=2, lat=13.01, lon=30.0)
    assert M.level_for(M.compare(a, same_site, M.DEFAULT_PARAMS).score, likely=12, possible=6) == "likely"
    village = dict(
        a,
        id=3,
        charity=2,
        text=["c:dig", "c:well", "c:water", "k:kbk", "n:25", "c:village"],
        title=["c:dig", "c:well", "k:kbk"],
        quantities=["well:25"],
        lat=13.36,
        lon=30.0,
        areas=["k:kbk"],
        beneficiaries=2500,
    )
    scored = M.compare(a, village, M.DEFAULT_PARAMS)
    assert M.level_for(scored.score, likely=12, possible=6, levels=scored.levels) != "likely"
    location = {r["signal"]: r for r in scored.reasons}["location"]
    assert location["level"] == "far" and location["weight"] < 0
    assert location["text_en"].startswith("not the same site, sites 40.0 km apart")
    # a score above "likely" with sites far apart is still only a possible overlap
    assert M.level_for(30.0, likely=12, possible=6, levels={"location": "far"}) == "possible"
    assert M.level_for(30.0, likely=12, possible=6, levels={"location": "km_1"}) == "likely"


def test_the_same_template_in_another_named_area_is_at_most_a_possible_overlap():
    """No GPS on either side, both name their area, none shared: the template of one project run in another
    village. However close the texts, it is shown as a possible overlap, never a likely duplicate."""
    a = make_record(
        id=1,
        charity=1,
        partner=7,
        partner_key="rhm",
        country="SD",
        sector="14030",
        group="families",
        text=["c:dig", "c:well", "c:water", "n:10", "c:village"],
        title=["c:dig", "c:well"],
        quantities=["well:10"],
        areas=["k:dr"],
        beneficiaries=1000,
        budget_kwd=20_000_000,
        start=20000,
        end=20365,
        langs=["en"],
    )
    other_village = dict(a, id=2, charity=2, areas=["k:kbk"])
    scored = M.compare(a, other_village, M.DEFAULT_PARAMS)
    assert scored.score >= M.DEFAULT_LIKELY, "the texts and the rest agree: the score alone would say likely"
    assert scored.levels["location"] == "apart"
    assert M.level_for(scored.score, likely=M.DEFAULT_LIKELY, possible=6, levels=scored.levels) == "possible"
    location = {r["signal"]: r for r in scored.reasons}["location"]
    assert location["text_en"].startswith("not the same site, different areas in one country")
    same_area = dict(a, id=3, charity=2)
    again = M.compare(a, same_area, M.DEFAULT_PARAMS)
    assert M.level_for(again.score, likely=M.DEFAULT_LIKELY, possible=6, levels=again.levels) == "likely"
