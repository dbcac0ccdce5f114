from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware as _DjangoLoginRequired
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the cookie and the browser's preference."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        response = self.get_response(request)
        if user is not None and user.is_authenticated and user.language:
            response.headers.setdefault("Content-Language", user.language)
        return response


def two_factor_satisfied(user) -> bool:
    if not user.is_authenticated or not user.requires_two_factor():
        return True
    if user.is_demo and settings.SHAFAF_DEMO_MODE:
        return True
    return user.is_verified()


class TwoFactorRequiredMiddleware:
    """Ministry, charity, accreditation and audit users must confirm a TOTP code before any page.

    The API enforces the same rule in its session authentication; personal tokens are made only by
    users who have passed it.
    """

    EXEMPT_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/i18n/", "/api/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and not two_factor_satisfied(user) and not request.path.startswith(self.EXEMPT_PREFIXES):
            return redirect(f"{reverse('accounts:two_factor')}?next={request.get_full_path()}")
        return self.get_response(request)


class LoginRequiredMiddleware(_DjangoLoginRequired):
    """Every page needs a login unless its view is marked `login_not_required`.

    The API under /api/ authenticates on its own (personal tokens or a verified session) and answers
    anonymous requests with 401 in its own error format instead of a redirect to the login page.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
