from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from shafaf.accounts.middleware import two_factor_satisfied
from shafaf.accounts.services import api_token_authenticate


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
        token = api_token_authenticate(parts[1])
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
