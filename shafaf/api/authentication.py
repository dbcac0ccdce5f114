from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from shafaf.accounts.middleware import two_factor_satisfied
from shafaf.accounts.models import ApiToken, Membership, Organization, User
from shafaf.accounts.services import LAST_USED_PRECISION, hash_key
from shafaf.core.prepared import prepared_cursor
from shafaf.donations.selectors import Columns

_TOKEN_SQL: dict[str, str] = {}


def _token_sql() -> str:
    """The token, its user and the user's active memberships in active organisations (with the organisations):
    one row per membership (one row with NULLs when there is none)."""
    sql = _TOKEN_SQL.get(connection.vendor)
    if sql is None:
        quote = connection.ops.quote_name
        token, user, organization = Columns.of(ApiToken), Columns.of(User), Columns.of(Organization)
        sql = _TOKEN_SQL[connection.vendor] = (
            f"SELECT {token.sql('t')}, {user.sql('u')}, m.{quote('role')}, {organization.sql('o')} "  # noqa: S608
            f"FROM {quote(ApiToken._meta.db_table)} t "
            f"INNER JOIN {quote(User._meta.db_table)} u ON u.{quote('id')} = t.{quote('user_id')} "
            f"LEFT OUTER JOIN ({quote(Membership._meta.db_table)} m INNER JOIN {quote(Organization._meta.db_table)} o"
            f" ON o.{quote('id')} = m.{quote('organization_id')} AND o.{quote('is_active')} = %s)"
            f" ON m.{quote('user_id')} = u.{quote('id')} AND m.{quote('is_active')} = %s "
            f"WHERE t.{quote('key_hash')} = %s AND t.{quote('revoked_at')} IS NULL AND u.{quote('is_active')} = %s"
        )
    return sql


def token_authenticate(key: str):
    """The active token with this key and its active user, or None — in one query that also loads the user's
    active memberships in active organisations (the per-user cache of
    `shafaf.accounts.permissions.organization_ids_with_role`) and those organisations (`user._shafaf_organizations`,
    by id). "Last used" is written at most once a minute, as `shafaf.accounts.services.api_token_authenticate`
    does."""
    with prepared_cursor() as cursor:
        cursor.execute(_token_sql(), [True, True, hash_key(key), True])
        rows = cursor.fetchall()
    if not rows:
        return None
    token_columns, user_columns, organization_columns = Columns.of(ApiToken), Columns.of(User), Columns.of(Organization)
    n_token, n_user = len(token_columns), len(user_columns)
    first = rows[0]
    token = token_columns.instance(first[:n_token])
    user = user_columns.instance(first[n_token : n_token + n_user])
    by_role: dict[str, set[int]] = {}
    organizations: dict[int, Organization] = {}
    for row in rows:
        role = row[n_token + n_user]
        if role is None:
            continue
        organization = organizations.get(row[n_token + n_user + 1 + organization_columns.pk_index])
        if organization is None:
            organization = organization_columns.instance(row[n_token + n_user + 1 :])
            organizations[organization.pk] = organization
        by_role.setdefault(role, set()).add(organization.pk)
    user._shafaf_organizations_by_role = by_role
    user._shafaf_organizations = organizations
    token.user = user
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer shf_…` with a personal API token."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if len(parts) != 2 or parts[0] not in (self.keyword, "Token"):
            return None
        token = token_authenticate(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API token."))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class VerifiedSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session, only once two-factor is satisfied for users who need it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user = result[0]
        if not two_factor_satisfied(user):
            raise exceptions.PermissionDenied(_("Confirm your two-factor code first."))
        return result


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "shafaf.api.authentication.PersonalTokenAuthentication"
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal API token (shf_…)."}


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "shafaf.api.authentication.VerifiedSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
