"""`manage.py deviations --jsonl [OUT|-]`: one JSON object per project beyond a threshold (any budget line beyond
the line threshold, or the whole budget beyond the total threshold), read from the roll-ups:

    {"project": 12, "ref": "XM-DAC-41114-1234" (the IATI identifier, else the platform's reference),
     "currency": "USD", "budget": "123.45", "spent": "132.51", "ratio": "1.0734",
     "lines": [{"code": "1", "category": "programme", "budget": "...", "spent": "...", "ratio": "1.2000"}]}

Amounts are major-unit strings with the currency's decimals; a ratio is spent / budget with 4 decimals rounded
half-even (null when the budget is zero). Projects are streamed in chunks with their lines prefetched (a bounded
number of queries per chunk, none per project); progress goes to stderr. `--detect` first runs the deviation
detection over every project with a budget (the nightly re-evaluation)."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand
from django.db.models import Exists, F, OuterRef, Prefetch, Q

from shafaf.core.money import Money
from shafaf.finance import deviations, variance
from shafaf.finance.models import BudgetLine, BudgetVersionLine, ProjectFinance
from shafaf.finance.rates import settings as finance_settings

CHUNK = 1000


def beyond_queryset(line_threshold_bp: int, total_threshold_bp: int):
    """The roll-ups of the projects with a budget that are beyond a threshold, found by the database."""
    # Exactly S × 10000 > B × (10000 + T), in integers on both databases.
    total_beyond = Q(spent_minor__gt=0) & (
        Q(budget_minor=0) | Q(_total_scaled__gt=F("budget_minor") * (variance.BP + total_threshold_bp))
    )
    line_beyond = (
        BudgetVersionLine.objects.filter(version_id=OuterRef("budget_version_id"))
        .alias(_line_scaled=F("line__spent_minor") * variance.BP)
        .filter(
            Q(line__spent_minor__gt=0)
            & (Q(amount_minor=0) | Q(_line_scaled__gt=F("amount_minor") * (variance.BP + line_threshold_bp)))
        )
    )
    # Spending on a line the current version leaves out (its amount is 0 there).
    stray = BudgetLine.objects.filter(project_id=OuterRef("project_id"), spent_minor__gt=0).exclude(
        version_amounts__version_id=OuterRef("budget_version_id")
    )
    return (
        ProjectFinance.objects.filter(budget_version__isnull=False)
        .alias(_total_scaled=F("spent_minor") * variance.BP)
        .filter(total_beyond | Exists(line_beyond) | Exists(stray))
    )


def _money_text(minor: int, currency: str) -> str:
    return Money(int(minor), currency).amount_text


def _ratio(spent: int, budget: int) -> str | None:
    value = deviations.ratio_decimal(int(spent), int(budget), 4)
    return None if value is None else format(value, "f")


def project_record(finance: ProjectFinance, line_threshold_bp: int, total_threshold_bp: int) -> dict | None:
    """The JSON object of one roll-up (with its project, version amounts and lines prefetched); None when nothing
    is beyond a threshold."""
    project = finance.project
    currency = finance.currency
    amounts = {row.line_id: row.amount_minor for row in finance.budget_version.line_amounts.all()}
    lines = []
    for line in project.budget_lines.all():
        amount = int(amounts.get(line.pk, 0))
        if line.pk not in amounts and line.spent_minor == 0:
            continue
        if variance.is_beyond(int(line.spent_minor), amount, line_threshold_bp):
            lines.append(
                {
                    "code": line.code,
                    "category": line.category,
                    "budget": _money_text(amount, currency),
                    "spent": _money_text(line.spent_minor, currency),
                    "ratio": _ratio(line.spent_minor, amount),
                }
            )
    total_beyond = variance.is_beyond(int(finance.spent_minor), int(finance.budget_minor), total_threshold_bp)
    if not lines and not total_beyond:
        return None
    return {
        "project": project.pk,
        "ref": project.iati_identifier or project.reference,
        "currency": currency,
        "budget": _money_text(finance.budget_minor, currency),
        "spent": _money_text(finance.spent_minor, currency),
        "ratio": _ratio(finance.spent_minor, finance.budget_minor),
        "lines": lines,
    }


def records(*, line_threshold_bp: int, total_threshold_bp: int, chunk_size: int = CHUNK):
    queryset = (
        beyond_queryset(line_threshold_bp, total_threshold_bp)
        .select_related("project", "budget_version")
        .only(
            "project_id",
            "currency",
            "budget_minor",
            "spent_minor",
            "budget_version_id",
            "budget_version__id",
            "project__id",
            "project__reference",
            "project__iati_identifier",
        )
        .prefetch_related(
            Prefetch(
                "budget_version__line_amounts",
                queryset=BudgetVersionLine.objects.only("version_id", "line_id", "amount_minor"),
            ),
            Prefetch(
                "project__budget_lines",
                queryset=BudgetLine.objects.only("id", "project_id", "code", "category", "spent_minor").order_by(
                    "code"
                ),
            ),
        )
        .order_by("project_id")
    )
    for finance in queryset.iterator(chunk_size=chunk_size):
        record = project_record(finance, line_threshold_bp, total_threshold_bp)
        if record is not None:
            yield record


class Command(BaseCommand):
    help = "Writes one JSON object per project beyond a budget threshold (JSON Lines)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--jsonl",
            nargs="?",
            const="-",
            default="-",
            metavar="OUT",
            help="Where to write the JSON Lines: a file, or - for standard output (the default).",
        )
        parser.add_argument(
            "--detect", action="store_true", help="Run the deviation detection over every budgeted project first."
        )

    def handle(self, *args, jsonl="-", detect=False, **options):
        started = time.monotonic()
        if detect:
            summary = deviations.detect_all(progress=lambda n: self.stderr.write(f"detection: {n} projects"))
            self.stderr.write(f"detection: {json.dumps(summary)}")
        config = finance_settings()
        to_stdout = jsonl in (None, "-")
        out = self.stdout if to_stdout else open(jsonl, "w", encoding="utf-8")  # noqa: SIM115
        written = 0
        try:
            for record in records(
                line_threshold_bp=config.line_threshold_bp, total_threshold_bp=config.total_threshold_bp
            ):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                written += 1
                if written % 10000 == 0:
                    self.stderr.write(f"{written} projects beyond a threshold so far")
        finally:
            if to_stdout:
                self.stdout.flush()
            else:
                out.close()
        self.stderr.write(
            f"{written} projects beyond a threshold (line {config.line_threshold_bp} bp, "
            f"total {config.total_threshold_bp} bp) in {time.monotonic() - started:.1f} s"
        )
