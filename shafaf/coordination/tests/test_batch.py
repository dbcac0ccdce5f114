import json
import math
import random
from collections import Counter

import pytest

from shafaf.coordination import batch as B
from shafaf.coordination import index as I
from shafaf.coordination import model as M
from shafaf.coordination.tests.test_model import make_record, random_record

P = M.DEFAULT_PARAMS


def blocked_pairs_python(records, max_block):
    """The batch blocking written plainly: the index's keys, ``select_keys`` with corpus
    frequencies, keys found in 2..max_block records; pairs sharing a key."""
    keys = {r["id"]: I.blocking_keys(r) for r in records}
    df = Counter(k for ks in keys.values() for k in ks)
    text_keys = B._text_keys_per_record()
    blocks: dict[str, list[int]] = {}
    for rid, ks in keys.items():
        for k in I.select_keys(ks, df, text_keys=text_keys):
            if 2 <= df[k] <= max_block:
                blocks.setdefault(k, []).append(rid)
    pairs = set()
    for ids in blocks.values():
        ids.sort()
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs.add((a, b))
    return pairs


def test_scan_gives_the_pairs_and_scores_of_compare(tmp_path):
    rng = random.Random(11)
    records = [random_record(rng, i) for i in range(1, 301)]
    by_id = {r["id"]: r for r in records}
    possible, likely = -4.0, 4.0
    max_block = 40
    expected = {}
    blocked = blocked_pairs_python(records, max_block)
    for a, b in blocked:
        s = M.compare(by_id[a], by_id[b], P)
        if s.score >= possible:
            expected[(a, b)] = s
    stats, seen = {}, []
    out = list(
        B.scan(
            records,
            P,
            likely=likely,
            possible=possible,
            max_block=max_block,
            chunks=3,
            stats=stats,
            progress=lambda done, total, msg: seen.append((done, total, msg)),
            work_dir=tmp_path,
        )
    )
    got = {(p["a"], p["b"]): p for p in out}
    assert len(got) == len(out)  # each pair once, however many keys it shares
    assert set(got) == set(expected)
    assert len(expected) > 100 and stats["pairs"] == len(blocked) and stats["found"] == len(out)
    levels = Counter()
    for key, pair in got.items():
        s = expected[key]
        assert pair["a"] < pair["b"]
        assert pair["score"] == pytest.approx(s.score, abs=1e-6)
        assert pair["level"] == M.level_for(s.score, likely=likely, possible=possible, levels=s.levels)
        assert pair["reasons"] == s.reasons
        a = by_id[pair["a"]]
        assert (pair["a_ref"], pair["charity_a"]) == (a["ref"], a["charity"])
        levels[pair["level"]] += 1
    assert levels["likely"] and levels["possible"]
    # progress: one 0-100 scale, never backwards, ends at 100
    assert all(total == 100 for _, total, _ in seen)
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones) and dones[-1] == 100


def test_scan_reads_jsonl_and_parquet_files(tmp_path):
    rng = random.Random(5)
    records = [random_record(rng, i) for i in range(1, 81)]
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    from_list = sorted((p["a"], p["b"], p["score"]) for p in B.scan(records, P, likely=5, possible=0))
    from_file = sorted((p["a"], p["b"], p["score"]) for p in B.scan(str(path), P, likely=5, possible=0))
    assert from_list and from_list == from_file
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(records), tmp_path / "records.parquet")
    from_parquet = sorted(
        (p["a"], p["b"], p["score"]) for p in B.scan(tmp_path / "records.parquet", P, likely=5, possible=0)
    )
    assert from_parquet == from_list


def test_scan_finds_a_resubmission_and_not_a_pair_sharing_only_a_common_key():
    base = dict(  # noqa: C408 - keyword arguments of make_record
        country="YE",
        sector="14030",
        partner=7,
        partner_key="hlf",
        text=["c:well", "k:hdyd", "k:qry", "n:10", "c:water"],
        title=["c:well", "k:hdyd"],
        quantities=["well:10"],
        langs=["ar"],
        lat=15.3,
        lon=44.2,
        beneficiaries=500,
        budget_kwd=5_000_000,
        start=18000,
        end=18300,
    )
    a = make_record(id=1, charity=1, ref="A-1", **base)
    b = make_record(id=2, charity=2, ref="B-1", **dict(base, langs=["en"], lat=15.305))
    filler = [
        make_record(id=10 + i, charity=3, country="SY", sector="15110", text=[f"k:x{i}"], langs=["en"])
        for i in range(50)
    ]
    out = list(B.scan([a, b, *filler], P, likely=M.DEFAULT_LIKELY, possible=M.DEFAULT_POSSIBLE, max_block=10))
    assert [(p["a"], p["b"], p["level"]) for p in out] == [(1, 2, "likely")]
    assert out[0]["a_ref"] == "A-1" and out[0]["charity_b"] == 2
    assert out[0]["reasons"][0]["signal"] == "text"


def test_scan_of_nothing_and_of_one():
    assert list(B.scan([], P, likely=12, possible=6)) == []
    stats = {}
    assert list(B.scan([make_record(id=1)], P, likely=12, possible=6, stats=stats)) == []
    assert stats["records"] == 1


def test_scan_refuses_a_repeated_id_and_an_unknown_engine():
    with pytest.raises(ValueError):
        list(B.scan([make_record(id=1), make_record(id=1)], P, likely=12, possible=6))
    with pytest.raises(ValueError):
        list(B.scan([], P, likely=12, possible=6, engine="oracle"))


def test_splink_settings_carry_the_model():
    settings = B.splink_settings(P, "duckdb")
    assert [c["output_column_name"] for c in settings["comparisons"]] == M.SIGNALS
    partner = settings["comparisons"][M.SIGNALS.index("partner")]["comparison_levels"]
    assert partner[0]["is_null_level"] is True
    assert partner[1]["m_probability"] == P.m["partner"]["same"]
    assert settings["comparisons"][-1]["comparison_levels"][-1]["sql_condition"] == "ELSE"
    assert M.prior_from_probability(settings["probability_two_random_records_match"]) == pytest.approx(P.prior)
    spark = B.splink_settings(P, "spark")
    assert "array_intersect" in json.dumps(spark) and "list_intersect" not in json.dumps(spark)


# --------------------------------------------------------------------------------------
# Training on a corpus with known duplicates

N_SECTORS = 20


def _corpus(seed=1, n=1500, dups=300, keep_partner=0.8):
    rng = random.Random(seed)
    vocab = [f"k:w{i}" for i in range(3000)]
    sectors = [f"{11000 + 10 * i}" for i in range(N_SECTORS)]
    records = []
    for i in range(1, n + 1):
        lat, lon = rng.uniform(12, 18), rng.uniform(42, 48)
        start = rng.randint(17000, 19000)
        records.append(
            make_record(
                id=i,
                charity=rng.randint(1, 30),
                ref=f"R-{i}",
                partner=rng.randint(1, 300),
                partner_key="",
                country=rng.choice(["YE", "SY", "SO", "SD", "JO"]),
                sector=rng.choice(sectors),
                group=rng.choice(["children", "women", "refugees", "elderly"]),
                beneficiaries=int(math.exp(rng.uniform(3, 9))),
                budget_kwd=int(math.exp(rng.uniform(12, 18))),
                start=start,
                end=start + rng.randint(90, 720),
                lat=lat,
                lon=lon,
                areas=[f"a{rng.randint(1, 400)}"],
                text=sorted(set(rng.sample(vocab, 30))),
                title=sorted(set(rng.sample(vocab, 4))),
                langs=["en"],
            )
        )
    truth = []
    for j in range(dups):
        src = rng.choice(records[:n])
        text = [t if rng.random() < 0.7 else rng.choice(vocab) for t in src["text"]]
        dup = dict(
            src,
            id=n + 1 + j,
            ref=f"D-{j}",
            charity=src["charity"] % 30 + 1,
            partner=src["partner"] if rng.random() < keep_partner else rng.randint(1, 300),
            text=sorted(set(text)),
            lat=src["lat"] + rng.uniform(-0.01, 0.01),
            lon=src["lon"] + rng.uniform(-0.01, 0.01),
            beneficiaries=int(src["beneficiaries"] * rng.uniform(0.85, 1.15)),
            budget_kwd=int(src["budget_kwd"] * rng.uniform(0.9, 1.1)),
        )
        records.append(dup)
        truth.append((src["id"], dup["id"]))
    return records, truth


def test_train_from_labels_recovers_the_corpus_parameters():
    records, truth = _corpus()
    rng = random.Random(3)
    labels = [(a, b, True) for a, b in truth[:60]]
    labels += [(a, a + 1, False) for a in rng.sample(range(1, 1000), 20)]
    labels.append((99999, 1, True))  # an unknown project: reported, not used
    params, summary = B.train(records, labels, P, random_pairs=20_000)
    assert summary["m"]["source"] == "labels" and summary["m"]["pairs"] == 60
    assert summary["labels"]["unknown_ids"] == [99999]
    assert summary["u"]["source"] == "random pairs" and "sector" in summary["u"]["estimated"]
    # u: one sector in twenty, one group in four; m: the partner is kept by 80 % of duplicates
    assert params.u["sector"]["same"] == pytest.approx(1 / N_SECTORS, abs=0.01)
    assert params.u["group"]["same"] == pytest.approx(0.25, abs=0.02)
    assert params.m["partner"]["same"] == pytest.approx(0.8, abs=0.12)
    assert params.m["sector"]["same"] > 0.95 and params.m["location"]["km_5"] + params.m["location"]["km_1"] > 0.95
    assert params.weight("text", "ge_0_5") > 8 and params.weight("text", "low") < -3
    assert params.prior == P.prior
    # the duplicates now score far above random pairs
    by_id = {r["id"]: r for r in records}
    dup_scores = [M.compare(by_id[a], by_id[b], params).score for a, b in truth[60:160]]
    rnd = [M.compare(by_id[a], by_id[a + 7], params).score for a in range(1, 101)]
    assert min(dup_scores) > max(rnd)


def test_train_by_em_without_labels():
    records, _truth = _corpus(seed=2)
    params, summary = B.train(records, [], P, random_pairs=20_000)
    assert summary["m"]["source"] == "em" and summary["m"]["pairs"] >= B.MIN_EM_PAIRS
    assert params.m["partner"]["same"] == pytest.approx(0.8, abs=0.15)
    assert params.m["sector"]["same"] > 0.9
    assert params.m["text"]["ge_0_5"] + params.m["text"]["ge_0_3"] + params.m["text"]["ge_0_7"] > 0.8
    assert summary["prior"]["source"] == "kept" and summary["prior"]["em_estimate"] is not None
    json.dumps(summary)  # storable as the ModelVersion's note


def test_train_keeps_what_it_cannot_estimate():
    records = [make_record(id=i, text=[f"k:{i}"], langs=["en"]) for i in range(1, 6)]
    params, summary = B.train(records, [(1, 2, True)], P, random_pairs=100)
    assert summary["m"]["source"] == "kept" and summary["u"]["estimated"] == []
    assert params == P


def test_batch_keys_are_the_index_keys():
    rng = random.Random(21)
    records = [random_record(rng, i) for i in range(1, 120)]
    records.append(
        make_record(id=500, text=["k:a", "c:well"], country="", sector="14030", budget_kwd=5000, start=18000, end=18100)
    )
    got = B.batch_keys(records)
    for r in records:
        assert got[r["id"]] == I.blocking_keys(r), r["id"]
