"""Batch scan of a whole corpus with the coordination model, and re-estimation of its parameters.

``scan`` runs Splink (Fellegi–Sunter) on DuckDB, or on Spark's local/cluster mode with
``engine="spark"`` (``pip install pyspark``; imported only then). The comparisons are
``model.COMPARISONS``' SQL and the m/u probabilities the given ``Params``, so a pair gets the
same score, levels and reasons as ``model.compare`` gives it online.

Blocking uses ``shafaf.coordination.index.blocking_keys`` — the keys of the online index —
selected as the index selects them (``index.select_keys``: all non-text keys and the
``TEXT_KEYS`` rarest text keys of each project, rarity counted over the corpus) and without the
keys whose block is too large to compare all its pairs (``max_block``). Splink explodes the
``bkeys`` list column, joins on it and keeps each pair once however many keys it shares.

Records are streamed into a Parquet file (never held in memory as a whole), which DuckDB (or
Spark) reads.
"""

# ruff: noqa: S608 - the SQL is built from the model's definitions and work-file paths, never from input
from __future__ import annotations

import json
import logging
import math
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shafaf.coordination import model as M

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]

#: keys shared by more projects than this are not used to form batch pairs (a block of k
#: projects makes k(k-1)/2 pairs); the online index reads them with a limit instead. On the
#: synthetic corpora derived from the IATI activities: 100k projects -> 3.9M pairs, 1.7 % of
#: the projects left without a usable key; 1M -> 21M pairs, 12 % without (300 gives 36M pairs
#: at 100k already).
DEFAULT_MAX_BLOCK = 30
TEXT_KEYS_FALLBACK = 32
_BATCH_ROWS = 20_000
_TABLE = "shafaf_records"


# --------------------------------------------------------------------------------------
# Blocking keys: the online index's definition


def _blocking_keys_fn() -> Callable[[dict], set[str]]:
    try:
        from shafaf.coordination.index import blocking_keys
    except ImportError:  # pragma: no cover - only while the index module is missing
        return _local_blocking_keys
    return blocking_keys


def _text_keys_per_record() -> int:
    try:
        from shafaf.coordination.index import TEXT_KEYS
    except ImportError:  # pragma: no cover
        return TEXT_KEYS_FALLBACK
    return int(TEXT_KEYS)


def _local_blocking_keys(record: dict) -> set[str]:  # pragma: no cover - fallback only
    country = record.get("country") or "-"
    keys = {f"s:{country}:{record.get('sector') or '-'}"}
    if record.get("partner") is not None:
        keys.add(f"p:{country}:{record['partner']}")
    if record.get("partner_key"):
        keys.add(f"pk:{country}:{record['partner_key']}")
    keys.update(f"a:{country}:{a}" for a in record.get("areas") or ())
    keys.update(f"q:{country}:{q}" for q in record.get("quantities") or ())
    keys.update(f"t:{country}:{t}" for t in record.get("text") or ())
    return keys


# --------------------------------------------------------------------------------------
# Records -> Parquet -> the table the engines compare

#: the records' own shape (the contract's keys), as written to and read from Parquet
RECORD_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("ref", pa.string()),
        ("charity", pa.int64()),
        ("status", pa.string()),
        ("partner", pa.int64()),
        ("partner_key", pa.string()),
        ("country", pa.string()),
        ("sector", pa.string()),
        ("group", pa.string()),
        ("beneficiaries", pa.int64()),
        ("budget_kwd", pa.int64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("areas", pa.list_(pa.string())),
        ("text", pa.list_(pa.string())),
        ("title", pa.list_(pa.string())),
        ("quantities", pa.list_(pa.string())),
        ("langs", pa.list_(pa.string())),
        ("notes", pa.list_(pa.string())),
    ]
)
_KEYS_SCHEMA = pa.schema([("id", pa.int64()), ("keys", pa.list_(pa.string()))])
_RECORD_KEY = {col: key for col, (key, _) in M.TABLE_COLUMNS.items() if col != "qconcepts"}


def iter_records(source) -> Iterator[dict]:
    """Records from an iterable of dicts or from a ``.parquet`` / ``.jsonl`` file of them."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix == ".parquet":
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
                yield from batch.to_pylist()
        else:
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)
        return
    yield from source


def write_records(records, path: Path, *, progress: Progress | None = None) -> Path:
    """The records as a Parquet file of ``RECORD_SCHEMA``; a Parquet file is used as it is."""
    if isinstance(records, (str, os.PathLike)) and Path(records).suffix == ".parquet":
        return Path(records)
    count = 0
    with pq.ParquetWriter(path, RECORD_SCHEMA, compression="zstd") as writer:
        chunk: list[dict] = []
        for record in iter_records(records):
            chunk.append(record)
            if len(chunk) == _BATCH_ROWS:
                writer.write_table(pa.Table.from_pylist(chunk, schema=RECORD_SCHEMA))
                count += len(chunk)
                chunk = []
                if progress:
                    progress(count, 0, f"{count:,} projects read")
        if chunk:
            writer.write_table(pa.Table.from_pylist(chunk, schema=RECORD_SCHEMA))
    return path


def write_keys(record_file: Path, path: Path, *, progress: Progress | None = None) -> int:
    """Each record's blocking keys other than its text keys (``blocking_keys`` of the record
    without its text), as a Parquet file of (id, keys); return the number of records.

    The text keys — most of the keys — are ``t:<country or ->:<token>``, made in SQL from the
    token lists (``_text_keys_sql``); a test holds the two halves equal to ``blocking_keys``.
    """
    keys_of = _blocking_keys_fn()
    pf = pq.ParquetFile(record_file)
    columns = [name for name in pf.schema_arrow.names if name != "text"]
    count = 0
    with pq.ParquetWriter(path, _KEYS_SCHEMA) as writer:
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
            rows = batch.to_pylist()
            ids, keys = [], []
            for row in rows:
                row["text"] = []
                ids.append(row["id"])
                keys.append(sorted(keys_of(row)))
            writer.write_table(
                pa.table({"id": ids, "keys": pa.array(keys, pa.list_(pa.string()))}, schema=_KEYS_SCHEMA)
            )
            count += len(rows)
            if progress:
                progress(count, 0, f"{count:,} projects keyed")
    return count


def _input_sql(record_file: Path) -> str:
    """The records as rows of ``model.TABLE_COLUMNS`` (missing strings and lists made empty)."""
    src = f"read_parquet('{record_file.as_posix()}')"
    parts = []
    for col, (key, kind) in M.TABLE_COLUMNS.items():
        if col == "qconcepts":
            expr = (
                "list_sort(list_distinct(list_transform(coalesce(quantities, []::VARCHAR[]),"
                " lambda q: regexp_replace(q, ':[^:]*$', ''))))"
            )
        elif kind == "list<string>":
            expr = f'coalesce("{key}", []::VARCHAR[])'
        elif kind == "string":
            expr = f"coalesce(\"{key}\", '')"
        else:
            expr = f'"{key}"'
        parts.append(f"{expr} AS {col}")
    return f"SELECT {', '.join(parts)} FROM {src}"


def _text_keys_sql(table: str) -> str:
    return f"""
        SELECT id, 't:' || CASE WHEN country = '' THEN '-' ELSE country END || ':' || tok AS k
        FROM (SELECT id, country, unnest(text_tokens) AS tok FROM {table}) WHERE tok <> ''
    """


def _load_duckdb(con, records, work: Path, stage, *, max_block: int) -> int:
    """Create ``shafaf_input`` (records), ``shafaf_keys`` (id, key) and ``shafaf_records``
    (records with their blocking keys ``bkeys``) in DuckDB; return the number of records."""
    stage(1, "reading projects")
    record_file = write_records(
        records, work / "records.parquet", progress=lambda d, _t, m: stage(min(12, 1 + d / 80_000), m)
    )
    stage(12, "reading projects")
    con.execute(f"CREATE OR REPLACE TABLE shafaf_input AS {_input_sql(record_file)}")
    n, distinct, null_ids = con.execute(
        "SELECT count(*), count(DISTINCT id), count(*) - count(id) FROM shafaf_input"
    ).fetchall()[0]
    if null_ids:
        raise ValueError("a record has no id")
    if distinct != n:
        raise ValueError("a record id appears twice")
    stage(13, f"{n:,} projects: blocking keys")
    write_keys(record_file, work / "keys.parquet", progress=lambda d, _t, m: stage(13 + 12 * d / max(n, 1), m))
    con.execute(
        f"""
        CREATE OR REPLACE TABLE shafaf_keys AS
        SELECT DISTINCT id, k FROM (
            SELECT id, unnest(keys) AS k FROM read_parquet('{(work / "keys.parquet").as_posix()}')
            UNION ALL {_text_keys_sql("shafaf_input")}
        )
        """
    )
    stage(26, "selecting blocking keys")
    con.execute(
        f"CREATE OR REPLACE TABLE {_TABLE} AS "
        + _select_keys_sql("shafaf_input", "shafaf_keys", text_keys=_text_keys_per_record(), max_block=max_block)
    )
    con.execute("DROP TABLE shafaf_keys")
    return n


def batch_keys(records) -> dict[int, set[str]]:
    """Each record's blocking keys as the batch makes them (before selection): for tests."""
    with _work_directory(None) as work:
        con = _duckdb_connection(work, None, None)
        try:
            record_file = write_records(records, work / "records.parquet")
            con.execute(f"CREATE TABLE shafaf_input AS {_input_sql(record_file)}")
            write_keys(record_file, work / "keys.parquet")
            rows = con.execute(
                f"""
                SELECT id, k FROM (
                    SELECT id, unnest(keys) AS k FROM read_parquet('{(work / "keys.parquet").as_posix()}')
                )
                UNION ALL {_text_keys_sql("shafaf_input")}
                """
            ).fetchall()
            out: dict[int, set[str]] = {i: set() for (i,) in con.execute("SELECT id FROM shafaf_input").fetchall()}
        finally:
            con.close()
    for rid, key in rows:
        out[rid].add(key)
    return out


def _row_to_record(row: dict, side: str) -> dict:
    return {key: row[f"{col}_{side}"] for col, key in _RECORD_KEY.items() if f"{col}_{side}" in row}


# --------------------------------------------------------------------------------------
# Splink settings from the model


def splink_settings(params: M.Params, dialect: str) -> dict:
    comparisons = []
    for c in M.COMPARISONS:
        levels = []
        for lv in c.levels:
            level = {
                "sql_condition": "ELSE" if lv.sql == "ELSE" else M.render_sql(lv.sql, dialect),
                "label_for_charts": lv.name,
            }
            if lv.null:
                level["is_null_level"] = True
            else:
                level["m_probability"] = params.m[c.signal][lv.name]
                level["u_probability"] = params.u[c.signal][lv.name]
            levels.append(level)
        comparisons.append(
            {"output_column_name": c.signal, "comparison_description": c.signal, "comparison_levels": levels}
        )
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "id",
        "probability_two_random_records_match": M.probability_from_prior(params.prior),
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": "l.bkeys = r.bkeys", "arrays_to_explode": ["bkeys"]},
        ],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["ref", "charity"],
    }


def _select_keys_sql(records: str, keys: str, *, text_keys: int, max_block: int) -> str:
    """Each record's ``bkeys``: as ``index.select_keys`` with corpus frequencies (all non-text
    keys, the ``text_keys`` rarest text keys), then without the keys found once (no pair) or in
    more than ``max_block`` records."""
    return f"""
        WITH kf AS (SELECT k, count(*) AS df FROM {keys} GROUP BY k),
        ranked AS (
            SELECT x.id, x.k, kf.df,
                CASE WHEN starts_with(x.k, 't:')
                    THEN row_number() OVER (PARTITION BY x.id, starts_with(x.k, 't:') ORDER BY kf.df, x.k)
                    ELSE 0 END AS rn
            FROM {keys} AS x JOIN kf ON x.k = kf.k
        ),
        kept AS (
            SELECT id, list(k ORDER BY k) AS bkeys FROM ranked
            WHERE rn <= {int(text_keys)} AND df BETWEEN 2 AND {int(max_block)}
            GROUP BY id
        )
        SELECT s.*, coalesce(kept.bkeys, []::VARCHAR[]) AS bkeys
        FROM {records} AS s LEFT JOIN kept ON s.id = kept.id
    """


# --------------------------------------------------------------------------------------
# The scan


_TOKEN_SIGNALS = {"text": "text_tokens", "title": "title_tokens"}


def _output_sql(table: str, dialect: str) -> str:
    """The columns of Splink's predictions that the reasons need: the token lists reduced to
    their sizes and intersection (computed here for the pairs found only)."""
    cols = ["id_l", "id_r", "ref_l", "ref_r", "charity_l", "charity_r", "match_weight"]
    cols += [f"gamma_{c.signal}" for c in M.COMPARISONS] + [f"mw_{c.signal}" for c in M.COMPARISONS]
    for col in M.TABLE_COLUMNS:
        if col in ("id", "ref", "charity", "status", "qconcepts"):
            continue
        if col in _TOKEN_SIGNALS.values():
            size = M.render_sql(f"@size({col}_l)", dialect), M.render_sql(f"@size({col}_r)", dialect)
            cols += [f"{size[0]} AS {col}_len_l", f"{size[1]} AS {col}_len_r"]
            cols.append(f"{M.render_sql(f'@inter({col})', dialect)} AS {col}_inter")
        else:
            cols += [f"{col}_l", f"{col}_r"]
    return f"SELECT {', '.join(cols)} FROM {table}"


def _pair_output(row: dict, likely: float, possible: float) -> dict | None:
    score = float(row["match_weight"])
    levels = {signal: names[row[gamma]] for signal, gamma, names in _GAMMA_NAMES}
    level = M.level_for(score, likely=likely, possible=possible, levels=levels)
    if level is None:
        return None
    a, b = _row_to_record(row, "l"), _row_to_record(row, "r")
    a["id"], b["id"] = row["id_l"], row["id_r"]
    weights = {c.signal: float(row[f"mw_{c.signal}"]) for c in M.COMPARISONS}
    facts = {}
    for signal, col in _TOKEN_SIGNALS.items():
        len_l, len_r = row[f"{col}_len_l"], row[f"{col}_len_r"]
        facts[signal] = M.token_facts(
            row[f"{col}_inter"], len_l + len_r, a["langs"], b["langs"], empty=not len_l or not len_r
        )
    return {
        "a": a["id"],
        "b": b["id"],
        "a_ref": row["ref_l"],
        "b_ref": row["ref_r"],
        "charity_a": row["charity_l"],
        "charity_b": row["charity_r"],
        "score": score,
        "level": level,
        "reasons": M.explain(a, b, levels, weights, facts),
    }


def _level_index(comparison: M.Comparison, gamma: int) -> int:
    """Splink's comparison vector value -> index in ``comparison.levels`` (null: -1; the
    first non-null level has the highest value)."""
    if gamma == -1:
        return next(i for i, lv in enumerate(comparison.levels) if lv.null)
    non_null = [i for i, lv in enumerate(comparison.levels) if not lv.null]
    return non_null[len(non_null) - 1 - gamma]


#: (signal, gamma column, {comparison vector value: level name})
_GAMMA_NAMES = [
    (
        c.signal,
        f"gamma_{c.signal}",
        {g: c.levels[_level_index(c, g)].name for g in range(-1, len(c.weighted_levels))},
    )
    for c in M.COMPARISONS
]


@contextmanager
def _work_directory(work_dir):
    """A fresh directory for the run's files (inside ``work_dir`` when given), removed after."""
    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="shafaf-scan-", dir=work_dir))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class _Stages:
    """One 0-100 progress scale over the scan's stages."""

    def __init__(self, progress: Progress | None):
        self.progress = progress

    def __call__(self, percent: float, message: str) -> None:
        if self.progress is not None:
            self.progress(int(max(0, min(100, percent))), 100, message)


def _duckdb_connection(work: Path, threads: int | None, memory_limit: str | None):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{(work / 'duckdb_tmp').as_posix()}'")
    con.execute("SET preserve_insertion_order = false")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def scan(
    records,
    params: M.Params,
    *,
    likely: float,
    possible: float,
    engine: str = "duckdb",
    progress: Progress | None = None,
    work_dir=None,
    max_block: int = DEFAULT_MAX_BLOCK,
    chunks: int | None = None,
    stats: dict | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    spark_session=None,
) -> Iterator[dict]:
    """Yield every pair scoring at or above ``possible``: ``{"a", "b", "a_ref", "b_ref",
    "charity_a", "charity_b", "score", "level", "reasons"}`` with ``a < b``.

    ``records``: an iterable of records or a path to a Parquet/JSONL file of them.
    ``progress(done, total, message)`` is called with ``total`` 100 as stages advance.
    ``stats`` (a dict, optional) receives ``records``, ``pairs`` (pairs compared),
    ``unblocked`` (projects left with no usable blocking key), ``found``, ``seconds``.
    """
    if engine not in ("duckdb", "spark"):
        raise ValueError(f"unknown engine {engine!r}")
    stats = stats if stats is not None else {}
    stage = _Stages(progress)
    started = time.monotonic()
    with _work_directory(work_dir) as work:
        con = _duckdb_connection(work, threads, memory_limit)
        try:
            n = _load_duckdb(con, records, work, stage, max_block=max_block)
            stats["records"] = n
            stats["unblocked"] = con.execute(f"SELECT count(*) FROM {_TABLE} WHERE len(bkeys) = 0").fetchall()[0][0]
            stats["pairs"] = stats["found"] = 0
            if n >= 2 and engine == "duckdb":
                yield from _scan_duckdb(con, n, params, likely, possible, stage, stats, chunks)
            elif n >= 2:
                table_file = work / "table.parquet"
                con.execute(f"COPY {_TABLE} TO '{table_file.as_posix()}' (FORMAT parquet)")
                con.close()
                con = None
                yield from _scan_spark(table_file, params, likely, possible, stage, stats, work, spark_session)
        finally:
            if con is not None:
                con.close()
    stats["seconds"] = time.monotonic() - started
    stage(100, f"done: {stats.get('found', 0):,} pairs found among {stats.get('pairs', 0):,} compared")


def _quiet_splink():
    for name in ("splink", "splink.internals"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _scan_duckdb(con, n, params, likely, possible, stage, stats, chunks):
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    table = db_api.register(_TABLE)
    linker = Linker(table, splink_settings(params, "duckdb"), log_level=None)
    _quiet_splink()
    if chunks is None:
        chunks = max(1, math.ceil(n / 100_000))
    stage(30, f"comparing pairs (0 of {chunks} parts)")
    for i in range(1, chunks + 1):
        # blocked pairs first (Splink caches them for predict_chunk), to count them
        blocked = linker.inference.compute_blocked_pairs_for_predict_chunk(left_chunk=(i, chunks), right_chunk=(1, 1))
        stats["pairs"] += con.execute(f"SELECT count(*) FROM {blocked.physical_name}").fetchall()[0][0]
        predictions = linker.inference.predict_chunk(
            left_chunk=(i, chunks),
            right_chunk=(1, 1),
            threshold_match_weight=possible,
            warning_mode="never",
        )
        blocked.drop_table_from_database_and_remove_from_cache()
        name = predictions.physical_name
        reader = con.sql(_output_sql(name, "duckdb")).to_arrow_reader(10_000)
        for batch in reader:
            for row in batch.to_pylist():
                out = _pair_output(row, likely, possible)
                if out is not None:
                    stats["found"] += 1
                    yield out
        predictions.drop_table_from_database_and_remove_from_cache()
        stage(30 + 68 * i / chunks, f"comparing pairs ({i} of {chunks} parts, {stats['found']:,} found)")


def count_pairs(records, *, max_block: int = DEFAULT_MAX_BLOCK, work_dir=None) -> dict:
    """How many distinct pairs the batch blocking forms, without scoring them."""
    with _work_directory(work_dir) as work:
        con = _duckdb_connection(work, None, None)
        try:
            n = _load_duckdb(con, records, work, _Stages(None), max_block=max_block)
            pairs = con.execute(f"SELECT count(*) FROM ({_blocked_pairs_sql(_TABLE)})").fetchall()[0][0]
            unblocked = con.execute(f"SELECT count(*) FROM {_TABLE} WHERE len(bkeys) = 0").fetchall()[0][0]
        finally:
            con.close()
    return {"records": n, "pairs": pairs, "unblocked": unblocked}


def _blocked_pairs_sql(table: str) -> str:
    return f"""
        WITH ex AS (SELECT id, unnest(bkeys) AS k FROM {table})
        SELECT DISTINCT l.id AS id_l, r.id AS id_r FROM ex AS l JOIN ex AS r ON l.k = r.k AND l.id < r.id
    """


def _scan_spark(table_file, params, likely, possible, stage, stats, work, spark_session):
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError("engine='spark' needs pyspark: pip install pyspark (and Java 17)") from exc
    from splink import Linker, SparkAPI
    from splink.backends.spark import similarity_jar_location

    spark = spark_session or (
        SparkSession.builder.master("local[*]")
        .appName("shafaf-coordination-scan")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.local.dir", str(work / "spark"))
        # Splink's similarity functions ship in a jar inside the splink package (no download)
        .config("spark.jars", similarity_jar_location())
        .getOrCreate()
    )
    if spark_session is None:
        # the comparison SQL is long: Spark's code generator says it falls back to interpreted
        # evaluation for it (same results), which is all its warnings would say
        spark.sparkContext.setLogLevel("ERROR")
    if spark.sparkContext.getCheckpointDir() is None:
        spark.sparkContext.setCheckpointDir(str(work / "spark" / "checkpoints"))
    table = spark.read.parquet(str(table_file))
    db_api = SparkAPI(spark_session=spark)
    linker = Linker(db_api.register(table), splink_settings(params, "spark"), log_level=None)
    _quiet_splink()
    stage(30, "comparing pairs")
    blocked = linker.inference.compute_blocked_pairs_for_predict()  # cached for predict, counted
    stats["pairs"] = blocked.as_spark_dataframe().count()
    predictions = linker.inference.predict(threshold_match_weight=possible, warning_mode="never")
    stage(80, f"{stats['pairs']:,} pairs compared")
    predictions.as_spark_dataframe().createOrReplaceTempView("shafaf_predictions")
    for row in spark.sql(_output_sql("shafaf_predictions", "spark")).toLocalIterator():
        out = _pair_output(row.asDict(recursive=True), likely, possible)
        if out is not None:
            stats["found"] += 1
            yield out


# --------------------------------------------------------------------------------------
# Training

MIN_MATCH_LABELS = 20  # labelled matches needed to estimate m from the labels
MIN_EM_PAIRS = 1_000  # blocked pairs needed to estimate m by EM
MIN_U_COMPARISONS = 1_000  # non-null random comparisons needed to re-estimate a signal's u


def _level_counts(pairs: Iterable[tuple[dict, dict]]) -> dict[str, dict[str, int]]:
    counts = {c.signal: dict.fromkeys(c.weighted_levels, 0) for c in M.COMPARISONS}
    for a, b in pairs:
        for c in M.COMPARISONS:
            level = c.level_of(a, b)
            if level != "null":
                counts[c.signal][level] += 1
    return counts


def _smoothed(counts: dict[str, int], alpha: float = 0.5) -> dict[str, float]:
    total = sum(counts.values()) + alpha * len(counts)
    return {lv: (n + alpha) / total for lv, n in counts.items()}


def _em(patterns: list[tuple[tuple[str, ...], int]], params: M.Params, *, max_iter=200, tol=1e-7):
    """Fellegi–Sunter EM over level patterns with u fixed: returns (m, share of matches, iterations)."""
    import numpy as np

    counts = np.array([n for _, n in patterns], dtype=float)
    # per signal: each pattern's level as an index into the signal's levels (-1: null)
    index = {}
    log_u = np.zeros(len(patterns))
    for si, c in enumerate(M.COMPARISONS):
        names = c.weighted_levels
        idx = np.array([names.index(p[si]) if p[si] != "null" else -1 for p, _ in patterns], dtype=int)
        index[c.signal] = idx
        u = np.log(np.maximum([params.u[c.signal][lv] for lv in names], 1e-300))
        log_u += np.where(idx >= 0, u[np.maximum(idx, 0)], 0.0)
    m = {c.signal: np.array([params.m[c.signal][lv] for lv in c.weighted_levels]) for c in M.COMPARISONS}
    lam = 0.01
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - reported
        log_m = np.zeros(len(patterns))
        for s, idx in index.items():
            log_m += np.where(idx >= 0, np.log(np.maximum(m[s], 1e-300))[np.maximum(idx, 0)], 0.0)
        a = math.log(lam) + log_m
        b = math.log(1 - lam) + log_u
        top = np.maximum(a, b)
        post = np.exp(a - top) / (np.exp(a - top) + np.exp(b - top))
        weighted = post * counts
        new_lam = float(weighted.sum() / counts.sum())
        delta = 0.0
        for s, idx in index.items():
            mass = np.bincount(idx[idx >= 0], weights=weighted[idx >= 0], minlength=len(m[s]))
            total = mass.sum()
            if total > 0:
                new = (mass + 1e-6) / (total + 1e-6 * len(mass))
                delta = max(delta, float(np.abs(new - m[s]).max()))
                m[s] = new
        lam = min(max(new_lam, 1e-9), 1 - 1e-9)
        if delta < tol:
            break
    out = {
        c.signal: {lv: float(p) for lv, p in zip(c.weighted_levels, m[c.signal], strict=True)} for c in M.COMPARISONS
    }
    return out, lam, iterations


def train(
    records,
    labels: Iterable[tuple[int, int, bool]],
    params: M.Params,
    *,
    random_pairs: int = 50_000,
    sample_size: int = 20_000,
    max_block: int = DEFAULT_MAX_BLOCK,
    em_sample: int = 2_000_000,
    seed: int = 0,
    work_dir=None,
    progress: Progress | None = None,
) -> tuple[M.Params, dict]:
    """Re-estimate the model's m and u; return the new ``Params`` and a summary.

    * u, per signal, from ``random_pairs`` random pairs of a random sample of the records, when
      they give at least ``MIN_U_COMPARISONS`` comparisons with data on both sides; else kept.
    * m from the labelled matches (``(a_id, b_id, is_match)``: the ministry's duplicate and joint
      decisions are matches) when there are at least ``MIN_MATCH_LABELS``, per signal with data
      on both sides of at least that many; else by EM (u fixed) on the pairs the batch blocking
      forms, when there are at least ``MIN_EM_PAIRS``; else kept.
    * the prior is kept (the ministry's thresholds are on the score it is part of); the
      summary gives EM's estimate when EM ran.
    """
    stage = _Stages(progress)
    labels = [(int(a), int(b), bool(is_match)) for a, b, is_match in labels]
    wanted = {i for a, b, _ in labels for i in (a, b)}
    rng = random.Random(seed)
    sample: list[dict] = []
    by_id: dict[int, dict] = {}
    seen = 0

    def keep(record):
        nonlocal seen
        seen += 1
        if record["id"] in wanted:
            by_id[record["id"]] = record
        if len(sample) < sample_size:
            sample.append(record)
        else:
            j = rng.randrange(seen)
            if j < sample_size:
                sample[j] = record

    summary: dict = {"labels": {"given": len(labels)}}
    new_m = {s: dict(v) for s, v in params.m.items()}
    new_u = {s: dict(v) for s, v in params.u.items()}
    with _work_directory(work_dir) as work:
        stage(0, "reading projects")
        record_file = write_records(records, work / "records.parquet")
        n = 0
        for record in iter_records(record_file):
            keep(record)
            n += 1
        summary["records"] = n
        stage(30, "estimating u from random pairs")

        # u from random pairs
        pairs = []
        if len(sample) >= 2:
            for _ in range(random_pairs):
                a, b = rng.sample(sample, 2)
                pairs.append((a, b))
        counts = _level_counts(pairs)
        u_summary = {"source": "random pairs", "pairs": len(pairs), "estimated": [], "kept": []}
        for c in M.COMPARISONS:
            if sum(counts[c.signal].values()) >= MIN_U_COMPARISONS:
                new_u[c.signal] = _smoothed(counts[c.signal])
                u_summary["estimated"].append(c.signal)
            else:
                u_summary["kept"].append(c.signal)
        summary["u"] = u_summary
        u_params = M.Params(prior=params.prior, m=new_m, u=new_u)

        # m from the labels, else EM
        matches = [(by_id[a], by_id[b]) for a, b, ok in labels if ok and a in by_id and b in by_id]
        summary["labels"].update(
            {
                "matches": sum(1 for *_, ok in labels if ok),
                "non_matches": sum(1 for *_, ok in labels if not ok),
                "matches_usable": len(matches),
                "unknown_ids": sorted(wanted - set(by_id))[:20],
            }
        )
        stage(50, "estimating m")
        if len(matches) >= MIN_MATCH_LABELS:
            counts = _level_counts(matches)
            m_summary = {"source": "labels", "pairs": len(matches), "estimated": [], "kept": []}
            for c in M.COMPARISONS:
                if sum(counts[c.signal].values()) >= MIN_MATCH_LABELS:
                    new_m[c.signal] = _smoothed(counts[c.signal])
                    m_summary["estimated"].append(c.signal)
                else:
                    m_summary["kept"].append(c.signal)
            summary["prior"] = {"source": "kept", "value": params.prior}
        else:
            patterns, blocked = _blocked_patterns(record_file, work, max_block, em_sample)
            if blocked >= MIN_EM_PAIRS:
                m_em, lam, iterations = _em(patterns, u_params)
                new_m = m_em
                total_pairs = n * (n - 1) / 2
                m_summary = {
                    "source": "em",
                    "pairs": blocked,
                    "iterations": iterations,
                    "estimated": list(M.SIGNALS),
                    "kept": [],
                    "match_share_of_blocked_pairs": lam,
                }
                estimate = lam * blocked / total_pairs if total_pairs else None
                summary["prior"] = {
                    "source": "kept",
                    "value": params.prior,
                    "em_estimate": M.prior_from_probability(estimate) if estimate and 0 < estimate < 1 else None,
                }
            else:
                m_summary = {"source": "kept", "pairs": blocked, "estimated": [], "kept": list(M.SIGNALS)}
                summary["prior"] = {"source": "kept", "value": params.prior}
        summary["m"] = m_summary
    new = M.Params(prior=params.prior, m=new_m, u=new_u)
    stage(100, "trained")
    return M.Params.from_dict(new.to_dict()), summary


def _blocked_patterns(record_file: Path, work: Path, max_block: int, sample: int):
    """Level patterns (and their counts) of the pairs the batch blocking forms."""
    con = _duckdb_connection(work, None, None)
    try:
        _load_duckdb(con, record_file, work, _Stages(None), max_block=max_block)
        con.execute(f"CREATE TABLE blocked AS {_blocked_pairs_sql(_TABLE)}")
        blocked = con.execute("SELECT count(*) FROM blocked").fetchall()[0][0]
        if blocked > sample:
            con.execute(
                "CREATE OR REPLACE TABLE blocked AS SELECT * FROM blocked"
                f" USING SAMPLE reservoir({int(sample)} ROWS) REPEATABLE (7)"
            )
        cols = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in M.TABLE_COLUMNS)
        cases = ", ".join(f"{c.case_sql('duckdb')} AS s{i}" for i, c in enumerate(M.COMPARISONS))
        signals = ", ".join(f"s{i}" for i in range(len(M.COMPARISONS)))
        rows = con.execute(
            f"""
            WITH p AS (
                SELECT {cols} FROM blocked
                JOIN {_TABLE} AS l ON l.id = blocked.id_l JOIN {_TABLE} AS r ON r.id = blocked.id_r
            )
            SELECT {signals}, count(*) FROM (SELECT {cases} FROM p) GROUP BY ALL
            """
        ).fetchall()
    finally:
        con.close()
    return [(tuple(row[:-1]), row[-1]) for row in rows], blocked
