"""What each user may see of donors, donations and allocations.

The receiving charity sees its own (every member); the ministry and auditors see all; a donor account sees the
donations of the donor records linked to it (never another donor's); nobody else sees anything."""

from __future__ import annotations

from django.db.models import Q, Sum
from django.http import Http404

from shafaf.accounts.permissions import has_oversight

from .models import Allocation, BankAccount, Campaign, Donation, DonationImport, Donor
from .permissions import charities_user_records_for


def _charity_filter(user, field: str) -> Q | None:
    """None: everything (oversight); otherwise the Q of what the user's charities own."""
    if has_oversight(user) or user.is_superuser:
        return None
    return Q(**{f"{field}__in": charities_user_records_for(user)})


def donations_visible_to(user, queryset=None):
    queryset = Donation.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(donor__user=user))


def donation_get(user, pk) -> Donation:
    """The donation, if the user may see it (404 otherwise, so that its existence does not leak)."""
    try:
        return donations_visible_to(user).select_related("charity", "donor", "project", "campaign").get(pk=pk)
    except (Donation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def donor_accounts_donations(user):
    """The donations of the donor records linked to this account (the donor portal)."""
    if not user.is_authenticated:
        return Donation.objects.none()
    return Donation.objects.filter(donor__user=user).select_related("charity", "project", "campaign")


def donors_visible_to(user, queryset=None):
    queryset = Donor.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(user=user))


def donor_get(user, pk) -> Donor:
    try:
        return donors_visible_to(user).select_related("charity").get(pk=pk)
    except (Donor.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def allocations_visible_to(user, queryset=None):
    queryset = Allocation.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "donation__charity_id")
    if condition is None:
        return queryset
    return queryset.filter(condition | Q(donation__donor__user=user))


def allocations_of(donation):
    """The allocation entries of one donation, oldest first (callers check the donation is visible)."""
    return Allocation.objects.filter(donation=donation).select_related("project").order_by("allocated_at", "id")


def allocation_totals_of(donation) -> list[dict]:
    """Per project: {"project_id", "total"} (minor units), net of taken-back entries, non-zero only."""
    rows = (
        Allocation.objects.filter(donation=donation)
        .values("project_id")
        .annotate(total=Sum("amount_minor"))
        .order_by("project_id")
    )
    return [row for row in rows if row["total"]]


def bank_accounts_visible_to(user, queryset=None):
    """A charity's bank accounts: its members, the ministry and auditors (donors do not see them)."""
    queryset = BankAccount.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    return queryset if condition is None else queryset.filter(condition)


def campaigns_visible_to(user, queryset=None):
    queryset = Campaign.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    return queryset if condition is None else queryset.filter(condition)


def imports_visible_to(user, queryset=None):
    queryset = DonationImport.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    condition = _charity_filter(user, "charity_id")
    return queryset if condition is None else queryset.filter(condition)


# --- reading whole rows in one hand-written query (the API's hot path) ----------------------------------------------


class Columns:
    """A model's concrete columns for a hand-written SELECT that joins several tables (``sql(alias)``), and the
    instance built back from its slice of a row (``instance(values)``) with the backend's converters applied, as
    the ORM would (aware datetimes and booleans on SQLite too). ``of(model)`` keeps one per model and database."""

    _cache: dict = {}

    def __init__(self, model, alias: str):
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.names = [field.attname for field in self.fields]
        self.alias = alias
        self.pk_index = next(i for i, field in enumerate(self.fields) if field.primary_key)
        compiler = model._base_manager.all().query.get_compiler(using=alias)
        compiler.setup_query()
        self.converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        self.compiler = compiler

    @classmethod
    def of(cls, model, using: str = "default") -> Columns:
        from django.db import connections

        key = (model, using, connections[using].vendor)
        found = cls._cache.get(key)
        if found is None:
            found = cls._cache[key] = cls(model, using)
        return found

    def __len__(self) -> int:
        return len(self.fields)

    def sql(self, table_alias: str) -> str:
        from django.db import connections

        quote = connections[self.alias].ops.quote_name
        return ", ".join(f"{table_alias}.{quote(field.column)}" for field in self.fields)

    def instance(self, values):
        """The model instance of these values (None when its primary key is NULL: an outer join found nothing)."""
        if values[self.pk_index] is None:
            return None
        if self.converters:
            values = next(iter(self.compiler.apply_converters([list(values)], self.converters)))
        return self.model.from_db(self.alias, self.names, values)


_LOOKUP_SQL: dict[str, str] = {}


def _lookup_sql(vendor: str) -> str:
    from django.db import connection

    from shafaf.projects.models import Project

    sql = _LOOKUP_SQL.get(vendor)
    if sql is None:
        quote = connection.ops.quote_name
        tables = [("e", Donation), ("d", Donor), ("b", BankAccount), ("p", Project), ("c", Campaign)]
        select = ", ".join(Columns.of(model).sql(alias) for alias, model in tables)
        table = {alias: quote(model._meta.db_table) for alias, model in tables}
        pk, charity = quote("id"), quote("charity_id")
        sql = _LOOKUP_SQL[vendor] = (
            f"SELECT {select} FROM (SELECT 1 AS one) x "  # noqa: S608
            # "<> ''" lets a generic plan (shafaf.core.prepared) use the partial unique index of the keys.
            f"LEFT OUTER JOIN {table['e']} e ON e.{charity} = %s AND e.{quote('idempotency_key')} = %s"
            f" AND e.{quote('idempotency_key')} <> '' "
            f"LEFT OUTER JOIN {table['d']} d ON d.{pk} = %s AND d.{charity} = %s "
            f"LEFT OUTER JOIN {table['b']} b ON b.{pk} = %s AND b.{charity} = %s "
            f"LEFT OUTER JOIN {table['p']} p ON p.{pk} = %s AND p.{charity} = %s "
            f"LEFT OUTER JOIN {table['c']} c ON c.{pk} = %s AND c.{charity} = %s"
        )
    return sql


def donation_lookups(*, charity_id: int, idempotency_key: str, donor_id, bank_account_id, project_id, campaign_id):
    """For recording a donation through the API, in one query: the donation already recorded with this
    idempotency key (when the key is not empty), and the donor, bank account, project and campaign of these ids —
    each only when it belongs to the charity, else None. The caller has checked that the user records donations for
    the charity (so the charity's rows are what ``donors_visible_to`` and ``bank_accounts_visible_to`` give it)."""
    from django.db import connection

    from shafaf.core.prepared import prepared_cursor
    from shafaf.projects.models import Project

    with prepared_cursor() as cursor:
        cursor.execute(
            _lookup_sql(connection.vendor),
            [
                charity_id,
                idempotency_key or None,
                donor_id,
                charity_id,
                bank_account_id,
                charity_id,
                project_id,
                charity_id,
                campaign_id,
                charity_id,
            ],
        )
        row = cursor.fetchone()
    found = []
    start = 0
    for model in (Donation, Donor, BankAccount, Project, Campaign):
        columns = Columns.of(model)
        found.append(columns.instance(row[start : start + len(columns)]))
        start += len(columns)
    return tuple(found)
