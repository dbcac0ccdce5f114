"""A project's money: its estimated budget (versions, lines, periods), the contracts signed with its implementing
partner and the disbursements (tranches) made under them, the expenditures against its budget lines, the
ministry's exchange rates, the double-entry ledger beneath every movement, and the deviations from the budget
with their justification and the ministry's decision.

Amounts are integers in the currency's minor units (shafaf.core.money), never floats; percentages and ratios are
integers in basis points (1 % = 100 bp); exchange rates are exact decimal text."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shafaf.core.models import ImportRun
from shafaf.core.money import Money


def contract_upload_to(contract, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    extension = PurePath(filename).suffix.lower()[:10]
    return f"contracts/{contract.project_id}/{uuid.uuid4().hex}{extension}"


class Contract(models.Model):
    """A contract between a charity and the foreign partner implementing one of its projects."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="contracts"
    )
    partner = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("partner"),
        on_delete=models.PROTECT,
        related_name="contracts",
        limit_choices_to={"kind": "partner"},
    )
    number = models.CharField(_("contract number"), max_length=60)
    signed_on = models.DateField(_("signed on"))
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    file = models.FileField(_("signed contract"), upload_to=contract_upload_to, max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="contract_unique_number"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="contract_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)

    @property
    def has_document(self) -> bool:
        return bool(self.file) and bool(self.sha256)


class Disbursement(models.Model):
    """A transfer of money to the implementing partner under a contract."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="disbursements"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="disbursements"
    )
    partner = models.ForeignKey(
        "accounts.Organization", verbose_name=_("partner"), on_delete=models.PROTECT, related_name="disbursements"
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("transfer reference"), max_length=100)
    tranche = models.ForeignKey(
        "finance.Tranche",
        verbose_name=_("tranche"),
        on_delete=models.PROTECT,
        related_name="disbursements",
        null=True,
        blank=True,
    )
    # The amount in the project's currency, with the rate used and its date (no rate when the currencies match).
    project_amount_minor = models.BigIntegerField(_("amount in the project's currency (minor units)"), null=True)
    rate = models.CharField(_("exchange rate"), max_length=40, blank=True)
    rate_date = models.DateField(_("rate date"), null=True, blank=True)
    is_settlement = models.BooleanField(
        _("settlement of a suspended partner's contract"), default=False, editable=False
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "reference"], name="disbursement_unique_reference"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="disbursement_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


# ------------------------------------------------------------------------------------------------------------------
# Ministry settings


class FinanceSettings(models.Model):
    """The ministry's thresholds (one row, pk=1). A deviation opens when spending passes the budget by more than
    the threshold; a warning shows once it passes `warning_percent` % of the way to the threshold."""

    line_threshold_bp = models.PositiveIntegerField(_("line threshold (basis points)"), default=1000)
    total_threshold_bp = models.PositiveIntegerField(_("total threshold (basis points)"), default=500)
    warning_percent = models.PositiveSmallIntegerField(_("warn at (percent of the threshold)"), default=80)
    rate_max_age_days = models.PositiveSmallIntegerField(
        _("oldest usable exchange rate (days)"),
        default=31,
        help_text=_("A conversion uses the rate of its date, or the latest before it within this many days."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("updated by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("finance settings")
        verbose_name_plural = _("finance settings")
        constraints = [
            models.CheckConstraint(condition=Q(warning_percent__gte=1, warning_percent__lte=100), name="fin_warn_pct"),
            models.CheckConstraint(condition=Q(line_threshold_bp__lte=100000), name="fin_line_threshold_max"),
            models.CheckConstraint(condition=Q(total_threshold_bp__lte=100000), name="fin_total_threshold_max"),
        ]

    def __str__(self) -> str:
        return "finance settings"


class AdminShareLicence(models.Model):
    """The administrative expenses share the ministry licenses a charity to take from its projects' budgets."""

    charity = models.OneToOneField(
        "accounts.Organization",
        verbose_name=_("charity"),
        on_delete=models.PROTECT,
        related_name="admin_share_licence",
        limit_choices_to={"kind": "charity"},
    )
    percent_bp = models.PositiveIntegerField(_("licensed administrative share (basis points)"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("set by"), on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        verbose_name = _("licensed administrative share")
        verbose_name_plural = _("licensed administrative shares")
        constraints = [models.CheckConstraint(condition=Q(percent_bp__lte=10000), name="admin_share_max_100")]

    def __str__(self) -> str:
        return f"{self.charity_id}: {self.percent_bp} bp"


# ------------------------------------------------------------------------------------------------------------------
# Budgets


class BudgetKind(models.TextChoices):
    ORIGINAL = "original", _("Original")
    REVISION = "revision", _("Revision")


class BudgetStatus(models.TextChoices):
    INDICATIVE = "indicative", _("Indicative")
    COMMITTED = "committed", _("Committed")


class LineCategory(models.TextChoices):
    PROGRAMME = "programme", _("Programme")
    CONSTRUCTION = "construction", _("Construction")
    ADMINISTRATION = "administration", _("Administration")
    SUPPORT = "support", _("Support")
    MONITORING = "monitoring", _("Monitoring and evaluation")
    OTHER = "other", _("Other")


class BudgetVersion(models.Model):
    """One version of a project's estimated budget: number 1 is the original, each later one a revision with who,
    when and why. A version is never edited once saved; the latest is the project's budget."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="budget_versions"
    )
    number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=20, choices=BudgetKind.choices)
    status = models.CharField(_("status"), max_length=20, choices=BudgetStatus.choices, default=BudgetStatus.INDICATIVE)
    reason = models.TextField(_("reason"), blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    total_minor = models.BigIntegerField(_("total (minor units)"), default=0)
    admin_minor = models.BigIntegerField(_("administration (minor units)"), default=0)
    source = models.CharField(_("source"), max_length=20, default="entered")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("budget version")
        verbose_name_plural = _("budget versions")
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="budget_version_unique_number"),
            models.CheckConstraint(condition=Q(total_minor__gte=0), name="budget_total_not_negative"),
            models.CheckConstraint(condition=Q(admin_minor__gte=0), name="budget_admin_not_negative"),
            models.CheckConstraint(condition=Q(number__gte=1), name="budget_version_from_one"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.number}"

    @property
    def total(self) -> Money:
        return Money(self.total_minor, self.currency)


class BudgetLine(models.Model):
    """A budget line of a project, stable across versions (each version gives its amount); expenditures are
    recorded against it. `spent_minor` is the running total of its expenditures in the project's currency."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="budget_lines"
    )
    code = models.CharField(_("code"), max_length=20)
    category = models.CharField(_("category"), max_length=20, choices=LineCategory.choices)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    spent_minor = models.BigIntegerField(_("spent (minor units)"), default=0, editable=False)

    class Meta:
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        ordering = ["project", "code"]
        constraints = [models.UniqueConstraint(fields=["project", "code"], name="budget_line_unique_code")]

    def __str__(self) -> str:
        return self.code


class BudgetVersionLine(models.Model):
    """The amount of one line in one budget version."""

    version = models.ForeignKey(
        BudgetVersion, verbose_name=_("budget version"), on_delete=models.CASCADE, related_name="line_amounts"
    )
    line = models.ForeignKey(
        BudgetLine, verbose_name=_("budget line"), on_delete=models.PROTECT, related_name="version_amounts"
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))

    class Meta:
        verbose_name = _("budget line amount")
        verbose_name_plural = _("budget line amounts")
        constraints = [
            models.UniqueConstraint(fields=["version", "line"], name="budget_version_line_unique"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="budget_line_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.version_id}/{self.line_id}: {self.amount_minor}"


class BudgetPeriod(models.Model):
    """A period of a budget version with the amount planned for it (IATI's budget periods)."""

    version = models.ForeignKey(
        BudgetVersion, verbose_name=_("budget version"), on_delete=models.CASCADE, related_name="periods"
    )
    start = models.DateField(_("period start"))
    end = models.DateField(_("period end"))
    amount_minor = models.BigIntegerField(_("amount (minor units)"))

    class Meta:
        verbose_name = _("budget period")
        verbose_name_plural = _("budget periods")
        ordering = ["version", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="budget_period_ordered"),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="budget_period_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


# ------------------------------------------------------------------------------------------------------------------
# Money out: tranches and expenditures


class Tranche(models.Model):
    """A planned disbursement under a contract: its number, date and amount. Actual disbursements point to it."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="tranches"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="tranches"
    )
    number = models.PositiveSmallIntegerField(_("tranche"))
    planned_on = models.DateField(_("planned on"))
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        verbose_name = _("tranche")
        verbose_name_plural = _("tranches")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="tranche_unique_number"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="tranche_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} #{self.number}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


class EvidenceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    RECEIPT = "receipt", _("Receipt")
    REPORTED = "reported", _("Reported by the publisher")


class ExpenditureSource(models.TextChoices):
    ENTERED = "entered", _("Entered")
    SPREADSHEET = "spreadsheet", _("Spreadsheet import")
    IATI = "iati", _("IATI import")


def evidence_upload_to(expenditure, filename: str) -> str:
    import uuid
    from pathlib import PurePath

    extension = PurePath(filename).suffix.lower()[:10]
    return f"expenditures/{expenditure.project_id}/{uuid.uuid4().hex}{extension}"


class FinanceImport(ImportRun):
    """One spreadsheet import (expenditures or exchange rates): its file, counts, progress and per-row errors."""

    class Kind(models.TextChoices):
        EXPENDITURES = "expenditures", _("Expenditures")
        RATES = "rates", _("Exchange rates")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="+", null=True
    )
    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta(ImportRun.Meta):
        verbose_name = _("finance import")
        verbose_name_plural = _("finance imports")


class Expenditure(models.Model):
    """Money spent against a budget line, in any currency, with its evidence; converted to the project's currency
    at the ministry's rate of its date (the rate and the rate's date are kept)."""

    project = models.ForeignKey(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.PROTECT,
        related_name="expenditures",
    )
    line = models.ForeignKey(
        BudgetLine,
        verbose_name=_("budget line"),
        on_delete=models.PROTECT,
        related_name="expenditures",
    )
    amount_minor = models.BigIntegerField(_("amount (minor units)"))
    currency = models.CharField(_("currency"), max_length=3)
    project_amount_minor = models.BigIntegerField(_("amount in the project's currency (minor units)"))
    rate = models.CharField(_("exchange rate"), max_length=40, blank=True)
    rate_date = models.DateField(_("rate date"), null=True, blank=True)
    spent_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    reference = models.CharField(_("invoice or receipt number"), max_length=100, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    evidence_kind = models.CharField(_("evidence"), max_length=20, choices=EvidenceKind.choices)
    file = models.FileField(_("evidence document"), upload_to=evidence_upload_to, max_length=200, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, editable=False)
    source = models.CharField(
        _("source"), max_length=20, choices=ExpenditureSource.choices, default=ExpenditureSource.ENTERED
    )
    # The IATI transaction type ("3" disbursement, "4" expenditure) of an imported transaction.
    iati_type = models.CharField(_("IATI transaction type"), max_length=3, blank=True)
    batch = models.ForeignKey(
        FinanceImport, verbose_name=_("import"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("expenditure")
        verbose_name_plural = _("expenditures")
        ordering = ["-spent_on", "-id"]
        indexes = [
            models.Index(fields=["project", "spent_on"], name="expenditure_project_date"),
            models.Index(fields=["line", "spent_on"], name="expenditure_line_date"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="expenditure_amount_not_zero"),
            # Only an imported IATI transaction may be negative (a reversal reported by its publisher).
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0) | Q(source=ExpenditureSource.IATI), name="expenditure_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"expenditure {self.pk}"

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


# ------------------------------------------------------------------------------------------------------------------
# Exchange rates


class ExchangeRate(models.Model):
    """The ministry's rate of one currency on one date: how many Kuwaiti dinars one unit of it buys."""

    currency = models.CharField(_("currency"), max_length=3)
    on_date = models.DateField(_("date"))
    rate = models.CharField(_("rate (KWD per unit)"), max_length=40)
    source = models.CharField(_("source"), max_length=200, blank=True)
    batch = models.ForeignKey(
        FinanceImport, verbose_name=_("import"), on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-on_date"]
        constraints = [models.UniqueConstraint(fields=["currency", "on_date"], name="exchange_rate_unique_day")]

    def __str__(self) -> str:
        return f"{self.currency} {self.on_date} {self.rate}"


# ------------------------------------------------------------------------------------------------------------------
# The ledger


class AccountKind(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


class LedgerAccount(models.Model):
    """An account of the double-entry ledger, in one currency; it may belong to a charity and a project."""

    code = models.CharField(_("code"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=AccountKind.choices)
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.PROTECT, related_name="+", null=True
    )
    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class LedgerTransaction(models.Model):
    """A balanced set of entries: in each currency its entries sum to zero. Written once, never changed."""

    kind = models.CharField(_("kind"), max_length=30)
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True, db_index=True)
    occurred_on = models.DateField(_("date"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class LedgerEntry(models.Model):
    """One leg of a ledger transaction: a debit (positive) or a credit (negative) to one account."""

    transaction = models.ForeignKey(
        LedgerTransaction, verbose_name=_("transaction"), on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(
        LedgerAccount, verbose_name=_("account"), on_delete=models.PROTECT, related_name="entries"
    )
    currency = models.CharField(_("currency"), max_length=3)
    amount_minor = models.BigIntegerField(_("amount (minor units)"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=~Q(amount_minor=0), name="ledger_entry_not_zero")]
        indexes = [models.Index(fields=["account", "transaction"], name="ledger_entry_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_minor:+d} {self.currency}"


# ------------------------------------------------------------------------------------------------------------------
# Roll-ups and deviations


class ProjectFinance(models.Model):
    """A project's money at a glance, kept up to date by the services in the same transaction as every change:
    what the portfolio view and the deviation scan read instead of summing millions of expenditures."""

    project = models.OneToOneField(
        "projects.Project",
        verbose_name=_("project"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="finance",
    )
    charity = models.ForeignKey(
        "accounts.Organization", verbose_name=_("charity"), on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    budget_version = models.ForeignKey(
        BudgetVersion, verbose_name=_("budget version"), on_delete=models.PROTECT, related_name="+", null=True
    )
    budget_minor = models.BigIntegerField(_("budget (minor units)"), default=0)
    spent_minor = models.BigIntegerField(_("spent (minor units)"), default=0)
    disbursed_minor = models.BigIntegerField(_("disbursed (minor units)"), default=0)
    # spent / budget in basis points (10000 = exactly on budget); null without a budget.
    ratio_bp = models.BigIntegerField(_("spent / budget (basis points)"), null=True)
    worst_line_ratio_bp = models.BigIntegerField(_("highest line ratio (basis points)"), null=True)
    lines_over = models.PositiveIntegerField(_("lines beyond the threshold"), default=0)
    open_deviations = models.PositiveIntegerField(_("deviations awaiting a decision"), default=0)
    warning = models.BooleanField(_("approaching a threshold"), default=False)
    risk = models.BigIntegerField(_("risk"), default=0, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("project finance")
        verbose_name_plural = _("project finances")
        indexes = [models.Index(fields=["charity", "-risk"], name="project_finance_charity_risk")]

    def __str__(self) -> str:
        return f"finance of {self.project_id}"


class DeviationScope(models.TextChoices):
    LINE = "line", _("Budget line")
    TOTAL = "total", _("Total budget")


class DeviationStatus(models.TextChoices):
    OPEN = "open", _("Awaiting justification")
    JUSTIFIED = "justified", _("Awaiting the ministry's decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    RESOLVED = "resolved", _("Resolved")


# A deviation in one of these states still needs someone to act.
UNSETTLED_DEVIATION_STATUSES = (DeviationStatus.OPEN, DeviationStatus.JUSTIFIED, DeviationStatus.REJECTED)


class Deviation(models.Model):
    """Spending beyond the ministry's threshold on a line or on the whole budget: the charity justifies it in
    writing and the ministry approves or rejects it. A rejected deviation blocks spending on its line (on the
    whole project for the total) until the budget is revised or a new justification is approved."""

    project = models.ForeignKey(
        "projects.Project", verbose_name=_("project"), on_delete=models.PROTECT, related_name="deviations"
    )
    scope = models.CharField(_("scope"), max_length=10, choices=DeviationScope.choices)
    line = models.ForeignKey(
        BudgetLine, verbose_name=_("budget line"), on_delete=models.PROTECT, related_name="deviations", null=True
    )
    status = models.CharField(_("status"), max_length=20, choices=DeviationStatus.choices, default=DeviationStatus.OPEN)
    currency = models.CharField(_("currency"), max_length=3)
    budget_minor = models.BigIntegerField(_("budget (minor units)"))
    spent_minor = models.BigIntegerField(_("spent (minor units)"))
    ratio_bp = models.BigIntegerField(_("spent / budget (basis points)"))
    threshold_bp = models.PositiveIntegerField(_("threshold (basis points)"))
    budget_version = models.ForeignKey(
        BudgetVersion, verbose_name=_("budget version"), on_delete=models.PROTECT, related_name="+"
    )
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now)
    justification = models.TextField(_("justification"), blank=True)
    justified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("justified by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    justified_at = models.DateTimeField(_("justified at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+", null=True
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    # The spending the ministry approved: a new deviation opens only beyond it plus the threshold.
    approved_spent_minor = models.BigIntegerField(_("approved spending (minor units)"), null=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("deviation")
        verbose_name_plural = _("deviations")
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope=DeviationScope.LINE) & Q(line__isnull=False))
                | (Q(scope=DeviationScope.TOTAL) & Q(line__isnull=True)),
                name="deviation_scope_line",
            ),
            # At most one unsettled deviation per line, and one for the total, at a time.
            models.UniqueConstraint(
                fields=["project", "scope", "line"],
                condition=Q(status__in=["open", "justified", "rejected"]),
                name="deviation_one_unsettled_per_line",
            ),
            models.UniqueConstraint(
                fields=["project", "scope"],
                condition=Q(status__in=["open", "justified", "rejected"], scope="total"),
                name="deviation_one_unsettled_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.scope} {self.status}"
