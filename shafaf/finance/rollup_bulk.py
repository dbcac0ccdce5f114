"""The roll-ups of many projects at once (ProjectFinance and BudgetLine.spent_minor), set-based: what
rollup.refresh does for one project, for a whole import or a whole database in a handful of statements.

1. Every line's spent_minor is set from its expenditures with one UPDATE ... FROM (aggregate) statement.
2. The missing ProjectFinance rows are inserted with one INSERT ... SELECT.
3. The figures each roll-up needs (current version and its total, line amounts and spending, disbursements,
   unsettled deviations) are read with four aggregate queries, the ratios, warnings and risk computed with the
   same functions as rollup.refresh (shafaf.finance.variance), and written back with one executemany.

Used by the IATI import (shafaf.finance.iati_import) and the finance benchmark (bench/finance.py). Call it inside
the caller's transaction. Scope: a list of project ids, or None for every project."""

from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.utils import timezone

from . import variance
from .models import (
    UNSETTLED_DEVIATION_STATUSES,
    BudgetLine,
    BudgetVersion,
    BudgetVersionLine,
    Deviation,
    Disbursement,
    Expenditure,
    ProjectFinance,
)

CHUNK = 5000


def _tables() -> dict[str, str]:
    from shafaf.projects.models import Project

    return {
        "line": BudgetLine._meta.db_table,
        "expenditure": Expenditure._meta.db_table,
        "finance": ProjectFinance._meta.db_table,
        "project": Project._meta.db_table,
        "version": BudgetVersion._meta.db_table,
        "version_line": BudgetVersionLine._meta.db_table,
        "disbursement": Disbursement._meta.db_table,
        "deviation": Deviation._meta.db_table,
    }


def _chunks(ids: list[int] | None):
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _scope(column: str, ids: list[int] | None) -> tuple[str, list]:
    if ids is None:
        return "1 = 1", []
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def refresh_projects(project_ids=None) -> int:
    """Recomputes the roll-ups of the given projects (every project when None); returns how many were written."""
    ids = None if project_ids is None else sorted({int(pk) for pk in project_ids})
    if ids == []:
        return 0
    written = 0
    for chunk in _chunks(ids):
        _refresh_lines(chunk)
        _ensure_rows(chunk)
        written += _recompute(chunk)
    return written


def _refresh_lines(ids) -> None:
    """Each line's spending, from its expenditures. Written as a correlated update of the given projects' lines
    (one index look-up of the expenditures per line), not as an UPDATE ... FROM an aggregate: on PostgreSQL, with
    the statistics of tables filled in the same transaction (a bulk import), the planner could join that aggregate
    to every line of the table in a nested loop and take minutes."""
    t = _tables()
    where, params = _scope("project_id", ids)
    expenditures, lines = t["expenditure"], t["line"]
    # Table names from the models; the project ids are parameters.
    spent = f"COALESCE((SELECT SUM(e.project_amount_minor) FROM {expenditures} e WHERE e.line_id = {lines}.id), 0)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t['line']} SET spent_minor = {spent} WHERE {where} AND spent_minor <> {spent}",  # noqa: S608
            params,
        )


def _ensure_rows(ids) -> None:
    t = _tables()
    where, params = _scope("p.id", ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {t["finance"]} (project_id, charity_id, currency, budget_minor, spent_minor, disbursed_minor,
                lines_over, open_deviations, warning, risk, updated_at)
            SELECT p.id, p.charity_id, p.currency, 0, 0, 0, 0, 0, %s, 0, %s
            FROM {t["project"]} p
            WHERE {where} AND NOT EXISTS (SELECT 1 FROM {t["finance"]} f WHERE f.project_id = p.id)
            """,  # noqa: S608 - table names from the models; values are parameters
            [False, timezone.now(), *params],
        )


def _recompute(ids) -> int:
    from .rates import settings

    config = settings()
    t = _tables()
    with connection.cursor() as cursor:
        where, params = _scope("p.id", ids)
        cursor.execute(
            f"""
            SELECT p.id, p.charity_id, p.currency, v.id, v.total_minor
            FROM {t["project"]} p
            LEFT JOIN {t["version"]} v ON v.project_id = p.id
                AND v.number = (SELECT MAX(v2.number) FROM {t["version"]} v2 WHERE v2.project_id = p.id)
            WHERE {where}
            """,  # noqa: S608 - table names from the models; values are parameters
            params,
        )
        projects = cursor.fetchall()
        if not projects:
            return 0
        where, params = _scope("l.project_id", ids)
        cursor.execute(
            f"""
            SELECT l.project_id, l.id, l.spent_minor, vl.amount_minor
            FROM {t["line"]} l
            LEFT JOIN {t["version_line"]} vl ON vl.line_id = l.id
                AND vl.version_id = (SELECT v.id FROM {t["version"]} v WHERE v.project_id = l.project_id
                                     ORDER BY v.number DESC LIMIT 1)
            WHERE {where}
            """,  # noqa: S608 - table names from the models; values are parameters
            params,
        )
        lines = defaultdict(list)
        for project_id, _line_id, spent, amount in cursor.fetchall():
            lines[project_id].append((int(spent), int(amount or 0)))
        where, params = _scope("d.project_id", ids)
        cursor.execute(
            f"""
            SELECT d.project_id, d.currency, SUM(d.amount_minor), SUM(d.project_amount_minor)
            FROM {t["disbursement"]} d WHERE {where} GROUP BY d.project_id, d.currency
            """,  # noqa: S608 - table names from the models; values are parameters
            params,
        )
        disbursed_rows = cursor.fetchall()
        where, params = _scope("d.project_id", ids)
        statuses = [str(status) for status in UNSETTLED_DEVIATION_STATUSES]
        cursor.execute(
            f"""
            SELECT d.project_id, COUNT(*) FROM {t["deviation"]} d
            WHERE {where} AND d.status IN ({", ".join(["%s"] * len(statuses))}) GROUP BY d.project_id
            """,  # noqa: S608 - table names from the models; values are parameters
            [*params, *statuses],
        )
        unsettled = dict(cursor.fetchall())

    currency_of = {row[0]: row[2] for row in projects}
    disbursed: dict[int, int] = defaultdict(int)
    for project_id, currency, total, converted in disbursed_rows:
        disbursed[project_id] += int((total if currency == currency_of.get(project_id) else converted) or 0)

    now = timezone.now()
    rows = []
    for project_id, charity_id, currency, version_id, total in projects:
        budget = int(total or 0) if version_id else 0
        spent = 0
        worst = None
        lines_over = 0
        warning = False
        for line_spent, amount in lines.get(project_id, ()):
            spent += line_spent
            if amount == 0 and line_spent == 0:
                continue
            line_ratio = variance.ratio_bp(line_spent, amount) or 10 * variance.BP
            worst = line_ratio if worst is None else max(worst, line_ratio)
            if variance.is_beyond(line_spent, amount, config.line_threshold_bp):
                lines_over += 1
            elif variance.is_warning(line_spent, amount, config.line_threshold_bp, config.warning_percent):
                warning = True
        if version_id and variance.is_warning(spent, budget, config.total_threshold_bp, config.warning_percent):
            warning = True
        open_deviations = int(unsettled.get(project_id, 0))
        risk = variance.risk(
            budget=budget,
            spent=spent,
            worst_line_bp=worst,
            unsettled=open_deviations,
            warning=warning,
            lines_over=lines_over,
        )
        rows.append(
            (
                charity_id,
                currency,
                version_id,
                budget,
                spent,
                disbursed.get(project_id, 0),
                variance.ratio_bp(spent, budget),
                worst,
                lines_over,
                open_deviations,
                warning,
                risk,
                now,
                project_id,
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"""
            UPDATE {t["finance"]} SET charity_id = %s, currency = %s, budget_version_id = %s, budget_minor = %s,
                spent_minor = %s, disbursed_minor = %s, ratio_bp = %s, worst_line_ratio_bp = %s, lines_over = %s,
                open_deviations = %s, warning = %s, risk = %s, updated_at = %s
            WHERE project_id = %s
            """,  # noqa: S608 - table names from the models; values are parameters
            rows,
        )
    return len(rows)
