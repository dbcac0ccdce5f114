"""Financial statements of a project and of a charity: what the page, the Excel file and the bilingual PDF show.

A project's statement: its budget and every revision with its reason, the lines with budget, spent and variance,
the tranches planned against the disbursements made (with their bank references), the expenditures summed per
line and currency and per currency and rate, and the deviations with their justification and the ministry's
decision. Everything is summed in SQL (Sum by line / currency / rate): the statement never loads the project's
expenditure rows, so it costs the same dozen queries with ten expenditures or a million.

A charity's statement: its projects' roll-ups (budget, spent, disbursed, ratio, deviations awaiting action),
totals per currency, the budget revisions with their reasons, tranches against disbursements and expenditures per
currency, and every deviation with its justification and decision."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Count, Max, Min, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from shafaf.core.money import Money, minor_digits

from . import variance
from .deviations import ratio_text
from .models import (
    BudgetLine,
    BudgetVersion,
    BudgetVersionLine,
    Deviation,
    Disbursement,
    Expenditure,
    ProjectFinance,
    Tranche,
)

FONT_DIR = Path(__file__).resolve().parent / "fonts"


def percent_text(ratio_bp: int | None) -> str:
    """Basis points as a percentage with two decimals ("104.50 %"), exactly; empty for None."""
    return "" if ratio_bp is None else ratio_text(int(ratio_bp))


def _money(minor, currency: str) -> Money:
    return Money(int(minor or 0), currency)


# ------------------------------------------------------------------------------------------------------------------
# A project's statement


@dataclass
class LineRow:
    line: BudgetLine
    budget: Money
    spent: Money

    @property
    def variance(self) -> Money:
        """Spent minus budget: positive is over budget."""
        return self.spent - self.budget

    @property
    def ratio_bp(self) -> int | None:
        return variance.ratio_bp(self.spent.minor, self.budget.minor)


@dataclass
class TrancheRow:
    tranche: Tranche
    disbursements: list = field(default_factory=list)

    @property
    def disbursed(self) -> Money:
        total = Money(0, self.tranche.currency)
        for item in self.disbursements:
            if item.currency == self.tranche.currency:
                total += item.amount
        return total

    @property
    def remaining(self) -> Money:
        return self.tranche.amount - self.disbursed


@dataclass
class ProjectStatement:
    project: object
    currency: str
    generated_at: dt.datetime
    versions: list
    current: BudgetVersion | None
    lines: list[LineRow]
    tranches: list[TrancheRow]
    unplanned_disbursements: list
    disbursed_by_currency: list[dict]
    by_line_currency: list[dict]
    by_currency_rate: list[dict]
    deviations: list
    budget: Money
    spent: Money

    @property
    def variance(self) -> Money:
        return self.spent - self.budget

    @property
    def ratio_bp(self) -> int | None:
        return variance.ratio_bp(self.spent.minor, self.budget.minor)

    @property
    def revisions(self) -> list:
        return [version for version in self.versions if version.number > 1]


def project_statement(project) -> ProjectStatement:
    """The project's statement (the caller checked the user may see it): eight queries whatever its size."""
    currency = project.currency
    versions = list(BudgetVersion.objects.filter(project=project).select_related("created_by").order_by("number"))
    current = versions[-1] if versions else None
    amounts = (
        dict(BudgetVersionLine.objects.filter(version=current).values_list("line_id", "amount_minor"))
        if current
        else {}
    )
    by_line_currency = list(
        Expenditure.objects.filter(project=project)
        .values("line_id", "currency")
        .annotate(
            count=Count("id"),
            amount=Sum("amount_minor"),
            project_amount=Sum("project_amount_minor"),
            first=Min("spent_on"),
            last=Max("spent_on"),
        )
        .order_by("line_id", "currency")
    )
    spent_by_line: dict[int, int] = {}
    for row in by_line_currency:
        spent_by_line[row["line_id"]] = spent_by_line.get(row["line_id"], 0) + int(row["project_amount"] or 0)
    lines = [
        LineRow(
            line=line, budget=_money(amounts.get(line.pk), currency), spent=_money(spent_by_line.get(line.pk), currency)
        )
        for line in BudgetLine.objects.filter(project=project).order_by("code")
    ]
    codes = {row.line.pk: row.line.code for row in lines}
    for row in by_line_currency:
        row["code"] = codes.get(row["line_id"], "")
        row["amount"] = _money(row["amount"], row["currency"])
        row["project_amount"] = _money(row["project_amount"], currency)
    by_currency_rate = list(
        Expenditure.objects.filter(project=project)
        .values("currency", "rate")
        .annotate(
            count=Count("id"),
            amount=Sum("amount_minor"),
            project_amount=Sum("project_amount_minor"),
            first_rate_date=Min("rate_date"),
            last_rate_date=Max("rate_date"),
        )
        .order_by("currency", "rate")
    )
    for row in by_currency_rate:
        row["amount"] = _money(row["amount"], row["currency"])
        row["project_amount"] = _money(row["project_amount"], currency)
    tranche_rows = {
        tranche.pk: TrancheRow(tranche=tranche)
        for tranche in Tranche.objects.filter(project=project)
        .select_related("contract")
        .order_by("contract__signed_on", "contract_id", "number")
    }
    unplanned = []
    disbursed_by_currency: dict[str, int] = {}
    for item in Disbursement.objects.filter(project=project).select_related("contract").order_by("paid_on", "id"):
        disbursed_by_currency[item.currency] = disbursed_by_currency.get(item.currency, 0) + item.amount_minor
        row = tranche_rows.get(item.tranche_id)
        (row.disbursements if row else unplanned).append(item)
    deviations = list(
        Deviation.objects.filter(project=project)
        .select_related("line", "justified_by", "decided_by")
        .order_by("detected_at", "id")
    )
    budget = _money(current.total_minor if current else 0, currency)
    spent = _money(sum(spent_by_line.values()), currency)
    return ProjectStatement(
        project=project,
        currency=currency,
        generated_at=timezone.now(),
        versions=versions,
        current=current,
        lines=lines,
        tranches=list(tranche_rows.values()),
        unplanned_disbursements=unplanned,
        disbursed_by_currency=[
            {"currency": code, "amount": Money(total, code)} for code, total in sorted(disbursed_by_currency.items())
        ],
        by_line_currency=by_line_currency,
        by_currency_rate=by_currency_rate,
        deviations=deviations,
        budget=budget,
        spent=spent,
    )


# ------------------------------------------------------------------------------------------------------------------
# A charity's statement


@dataclass
class CharityStatement:
    charity: object
    generated_at: dt.datetime
    projects: list
    totals: list[dict]
    revisions: list
    tranches: list[dict]
    disbursements: list[dict]
    expenditures: list[dict]
    deviations: list


def charity_statement(charity) -> CharityStatement:
    """The charity's statement: its projects' roll-ups and SQL sums (seven queries whatever its size)."""
    finances = list(
        ProjectFinance.objects.filter(charity=charity)
        .select_related("project")
        .order_by("project__reference", "project_id")
    )
    for finance in finances:
        finance.budget = _money(finance.budget_minor, finance.currency)
        finance.spent = _money(finance.spent_minor, finance.currency)
        finance.disbursed = _money(finance.disbursed_minor, finance.currency)
        finance.variance = finance.spent - finance.budget
    totals = [
        {
            "currency": row["currency"],
            "projects": row["projects"],
            "budget": _money(row["budget"], row["currency"]),
            "spent": _money(row["spent"], row["currency"]),
            "disbursed": _money(row["disbursed"], row["currency"]),
            "variance": _money(int(row["spent"] or 0) - int(row["budget"] or 0), row["currency"]),
            "ratio_bp": variance.ratio_bp(int(row["spent"] or 0), int(row["budget"] or 0)),
            "open_deviations": row["open_deviations"],
        }
        for row in ProjectFinance.objects.filter(charity=charity)
        .values("currency")
        .annotate(
            projects=Count("project_id"),
            budget=Sum("budget_minor"),
            spent=Sum("spent_minor"),
            disbursed=Sum("disbursed_minor"),
            open_deviations=Sum("open_deviations"),
        )
        .order_by("currency")
    ]
    revisions = list(
        BudgetVersion.objects.filter(project__charity=charity, number__gt=1)
        .select_related("project", "created_by")
        .order_by("project__reference", "number")
    )
    tranches = [
        {"currency": row["currency"], "count": row["count"], "amount": _money(row["amount"], row["currency"])}
        for row in Tranche.objects.filter(project__charity=charity)
        .values("currency")
        .annotate(count=Count("id"), amount=Sum("amount_minor"))
        .order_by("currency")
    ]
    disbursements = [
        {"currency": row["currency"], "count": row["count"], "amount": _money(row["amount"], row["currency"])}
        for row in Disbursement.objects.filter(project__charity=charity)
        .values("currency")
        .annotate(count=Count("id"), amount=Sum("amount_minor"))
        .order_by("currency")
    ]
    expenditures = [
        {
            "currency": row["currency"],
            "project_currency": row["project__currency"],
            "count": row["count"],
            "amount": _money(row["amount"], row["currency"]),
            "project_amount": _money(row["project_amount"], row["project__currency"]),
        }
        for row in Expenditure.objects.filter(project__charity=charity)
        .values("currency", "project__currency")
        .annotate(count=Count("id"), amount=Sum("amount_minor"), project_amount=Sum("project_amount_minor"))
        .order_by("currency", "project__currency")
    ]
    deviations = list(
        Deviation.objects.filter(project__charity=charity)
        .select_related("project", "line", "justified_by", "decided_by")
        .order_by("project__reference", "detected_at", "id")
    )
    return CharityStatement(
        charity=charity,
        generated_at=timezone.now(),
        projects=finances,
        totals=totals,
        revisions=revisions,
        tranches=tranches,
        disbursements=disbursements,
        expenditures=expenditures,
        deviations=deviations,
    )


# ------------------------------------------------------------------------------------------------------------------
# Excel

# Amounts go into the workbook as numbers, so that Excel can sum and chart them. openpyxl writes a Decimal through
# a double ("%.16g"), and Excel keeps doubles anyway: a double holds every amount of at most 15 significant digits
# (|minor units| < 10^15: below a trillion dinars with three decimals) closely enough that Excel's 15-digit display,
# and rounding to the currency's minor unit when read back, give the exact amount. A larger amount would be
# silently rounded, so it is written as its exact text instead, never as an approximate number. Every amount
# carries the currency's number format (all its decimals) and its currency code in the next column.
EXACT_IN_A_DOUBLE = 10**15


def number_format(currency: str) -> str:
    digits = minor_digits(currency)
    return "#,##0" + ("." + "0" * digits if digits else "")


def excel_amount(money: Money):
    """The value to write for an amount: a Decimal when a double holds it exactly, its exact text otherwise."""
    return money.amount if abs(money.minor) < EXACT_IN_A_DOUBLE else money.amount_text


class _Sheet:
    def __init__(self, workbook, title: str, rtl: bool):
        from openpyxl.styles import Font

        self.sheet = workbook.create_sheet(title=title[:31])
        self.sheet.sheet_view.rightToLeft = rtl
        self.bold = Font(bold=True)

    def heading(self, *values):
        self.sheet.append(list(values))
        for cell in self.sheet[self.sheet.max_row]:
            cell.font = self.bold

    def row(self, *values):
        """A row; Money values become an amount cell (with its format) followed by nothing: the caller puts the
        currency code in its own column."""
        cells = []
        formats = {}
        for position, value in enumerate(values, start=1):
            if isinstance(value, Money):
                formats[position] = number_format(value.currency)
                value = excel_amount(value)
            elif isinstance(value, dt.datetime):
                value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
            cells.append(value)
        self.sheet.append(cells)
        row_number = self.sheet.max_row
        for position, fmt in formats.items():
            cell = self.sheet.cell(row=row_number, column=position)
            if not isinstance(cell.value, str):
                cell.number_format = fmt

    def blank(self):
        self.sheet.append([])


def _name(obj, language: str) -> str:
    if language.startswith("en"):
        return getattr(obj, "name_en", "") or getattr(obj, "name_ar", "")
    return getattr(obj, "name_ar", "") or getattr(obj, "name_en", "")


def _user(user) -> str:
    return user.get_username() if user else ""


def project_statement_xlsx(statement: ProjectStatement, language: str) -> bytes:
    from openpyxl import Workbook

    project = statement.project
    rtl = language.startswith("ar")
    workbook = Workbook()
    workbook.remove(workbook.active)
    with translation.override(language):
        summary = _Sheet(workbook, _("Statement"), rtl)
        summary.heading(_("Financial statement"))
        summary.row(_("Project"), project.reference)
        summary.row(_("Title (Arabic)"), project.title_ar)
        summary.row(_("Title (English)"), project.title_en)
        summary.row(_("Charity"), _name(project.charity, language))
        summary.row(_("Currency"), statement.currency)
        summary.row(_("Budget"), statement.budget, statement.currency)
        summary.row(_("Spent"), statement.spent, statement.currency)
        summary.row(_("Variance"), statement.variance, statement.currency)
        summary.row(_("Spent / budget"), percent_text(statement.ratio_bp))
        summary.row(_("Generated at"), statement.generated_at)

        sheet = _Sheet(workbook, _("Budget versions"), rtl)
        sheet.heading(_("Version"), _("Kind"), _("Status"), _("Total"), _("Currency"), _("Reason"), _("By"), _("At"))
        for version in statement.versions:
            sheet.row(
                version.number,
                version.get_kind_display(),
                version.get_status_display(),
                version.total,
                version.currency,
                version.reason,
                _user(version.created_by),
                version.created_at,
            )

        sheet = _Sheet(workbook, _("Budget lines"), rtl)
        sheet.heading(
            _("Code"),
            _("Category"),
            _("Name"),
            _("Budget"),
            _("Spent"),
            _("Variance"),
            _("Currency"),
            _("Spent / budget"),
        )
        for row in statement.lines:
            sheet.row(
                row.line.code,
                row.line.get_category_display(),
                _name(row.line, language),
                row.budget,
                row.spent,
                row.variance,
                statement.currency,
                percent_text(row.ratio_bp),
            )

        sheet = _Sheet(workbook, _("Tranches"), rtl)
        sheet.heading(
            _("Contract"), _("Tranche"), _("Planned on"), _("Planned"), _("Currency"),
            _("Paid on"), _("Disbursed"), _("Currency"), _("Transfer reference"),
        )  # fmt: skip
        for row in statement.tranches:
            tranche = row.tranche
            sheet.row(tranche.contract.number, tranche.number, tranche.planned_on, tranche.amount, tranche.currency)
            for item in row.disbursements:
                sheet.row("", "", "", None, "", item.paid_on, item.amount, item.currency, item.reference)
        for item in statement.unplanned_disbursements:
            sheet.row(item.contract.number, "", "", None, "", item.paid_on, item.amount, item.currency, item.reference)

        sheet = _Sheet(workbook, _("Expenditures"), rtl)
        sheet.heading(
            _("Line"), _("Currency"), _("Count"), _("Amount"), _("Currency"), _("In the project's currency"),
            _("Currency"),
        )  # fmt: skip
        for row in statement.by_line_currency:
            sheet.row(
                row["code"], row["currency"], row["count"], row["amount"], row["currency"],
                row["project_amount"], statement.currency,
            )  # fmt: skip
        sheet.blank()
        sheet.heading(
            _("Currency"), _("Exchange rate"), _("First rate date"), _("Last rate date"), _("Count"), _("Amount"),
            _("In the project's currency"),
        )  # fmt: skip
        for row in statement.by_currency_rate:
            sheet.row(
                row["currency"], row["rate"] or "1", row["first_rate_date"], row["last_rate_date"], row["count"],
                row["amount"], row["project_amount"],
            )  # fmt: skip

        sheet = _Sheet(workbook, _("Deviations"), rtl)
        _deviation_heading(sheet, with_project=False)
        for item in statement.deviations:
            _deviation_row(sheet, item, with_project=False)
    return _save(workbook)


def _deviation_heading(sheet: _Sheet, *, with_project: bool):
    sheet.heading(
        *([_("Project")] if with_project else []),
        _("Scope"), _("Line"), _("Status"), _("Budget"), _("Spent"), _("Currency"), _("Spent / budget"),
        _("Threshold"), _("Detected at"), _("Justification"), _("Justified by"), _("Decision note"),
        _("Decided by"), _("Decided at"), _("Resolution"),
    )  # fmt: skip


def _deviation_row(sheet: _Sheet, item, *, with_project: bool):
    sheet.row(
        *([item.project.reference] if with_project else []),
        item.get_scope_display(),
        item.line.code if item.line else "",
        item.get_status_display(),
        Money(item.budget_minor, item.currency),
        Money(item.spent_minor, item.currency),
        item.currency,
        percent_text(item.ratio_bp),
        percent_text(item.threshold_bp),
        item.detected_at,
        item.justification,
        _user(item.justified_by),
        item.decision_note,
        _user(item.decided_by),
        item.decided_at,
        item.resolution,
    )


def charity_statement_xlsx(statement: CharityStatement, language: str) -> bytes:
    from openpyxl import Workbook

    rtl = language.startswith("ar")
    workbook = Workbook()
    workbook.remove(workbook.active)
    with translation.override(language):
        sheet = _Sheet(workbook, _("Statement"), rtl)
        sheet.heading(_("Financial statement"), _name(statement.charity, language))
        sheet.heading(
            _("Currency"), _("Projects"), _("Budget"), _("Spent"), _("Disbursed"), _("Variance"), _("Spent / budget"),
            _("Deviations awaiting action"),
        )  # fmt: skip
        for row in statement.totals:
            sheet.row(
                row["currency"], row["projects"], row["budget"], row["spent"], row["disbursed"], row["variance"],
                percent_text(row["ratio_bp"]), row["open_deviations"],
            )  # fmt: skip
        sheet = _Sheet(workbook, _("Projects"), rtl)
        sheet.heading(
            _("Project"), _("Title (Arabic)"), _("Title (English)"), _("Budget"), _("Spent"), _("Disbursed"),
            _("Variance"), _("Currency"), _("Spent / budget"), _("Deviations awaiting action"),
        )  # fmt: skip
        for finance in statement.projects:
            project = finance.project
            sheet.row(
                project.reference, project.title_ar, project.title_en, finance.budget, finance.spent,
                finance.disbursed, finance.variance, finance.currency, percent_text(finance.ratio_bp),
                finance.open_deviations,
            )  # fmt: skip
        sheet = _Sheet(workbook, _("Budget revisions"), rtl)
        sheet.heading(_("Project"), _("Version"), _("Total"), _("Currency"), _("Reason"), _("By"), _("At"))
        for version in statement.revisions:
            sheet.row(
                version.project.reference, version.number, version.total, version.currency, version.reason,
                _user(version.created_by), version.created_at,
            )  # fmt: skip
        sheet = _Sheet(workbook, _("Money out"), rtl)
        sheet.heading(_("Tranches planned"), _("Count"), _("Amount"), _("Currency"))
        for row in statement.tranches:
            sheet.row("", row["count"], row["amount"], row["currency"])
        sheet.heading(_("Disbursements"), _("Count"), _("Amount"), _("Currency"))
        for row in statement.disbursements:
            sheet.row("", row["count"], row["amount"], row["currency"])
        sheet.heading(
            _("Expenditures"), _("Count"), _("Amount"), _("Currency"), _("In the project's currency"), _("Currency")
        )
        for row in statement.expenditures:
            sheet.row("", row["count"], row["amount"], row["currency"], row["project_amount"], row["project_currency"])
        sheet = _Sheet(workbook, _("Deviations"), rtl)
        _deviation_heading(sheet, with_project=True)
        for item in statement.deviations:
            _deviation_row(sheet, item, with_project=True)
    return _save(workbook)


def _save(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------------------------------------------------
# PDF (WeasyPrint): the statement in Arabic (right to left), then in English, in one document.


def _fetcher():
    """WeasyPrint fetches nothing but the shipped fonts: no network, no other file."""
    from weasyprint.urls import URLFetcher

    allowed = FONT_DIR.as_uri() + "/"

    class FontsOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith(allowed) or ".." in url:
                raise ValueError(f"refused: {url}")
            return super().fetch(url, headers)

    return FontsOnly(allowed_protocols=("file",))


def _pdf_html(template: str, context: dict) -> str:
    parts = []
    for language in ("ar", "en"):
        with translation.override(language):
            parts.append(render_to_string(template, {**context, "LANGUAGE": language, "RTL": language == "ar"}))
    return render_to_string(
        "finance/statement_pdf.html",
        {"parts": parts, "font_regular": (FONT_DIR / "DejaVuSans.ttf").as_uri(),
         "font_bold": (FONT_DIR / "DejaVuSans-Bold.ttf").as_uri()},
    )  # fmt: skip


def pdf_document(template: str, context: dict):
    """The rendered WeasyPrint document (its pages' boxes hold the text, for tests)."""
    from weasyprint import HTML

    return HTML(string=_pdf_html(template, context), url_fetcher=_fetcher()).render()


def project_statement_pdf(statement: ProjectStatement) -> bytes:
    return pdf_document("finance/statement_project_body.html", {"statement": statement}).write_pdf()


def charity_statement_pdf(statement: CharityStatement) -> bytes:
    return pdf_document("finance/statement_charity_body.html", {"statement": statement}).write_pdf()


def document_text(document) -> str:
    """Every piece of text laid out in a WeasyPrint document, in order."""
    texts: list[str] = []

    def walk(box):
        text = getattr(box, "text", None)
        if isinstance(text, str):
            texts.append(text)
        for child in getattr(box, "children", []) or []:
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return " ".join(texts)
