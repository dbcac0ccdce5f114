"""One-time sign-in links for donor accounts: ask for a link by e-mail, then open it to sign in (no login)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import login_links, portal

BACKEND = "django.contrib.auth.backends.ModelBackend"


class LoginLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "email", "dir": "ltr", "autofocus": True, "class": "form-control"}
        ),
        help_text=_("The address your charity registered for your donor account."),
    )


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _no_store(response):
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the link never leaves the site; forms keep their Origin
    response["X-Robots-Tag"] = "noindex"
    return response


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def login_link_request_view(request):
    """The donor gives an e-mail address; the answer is the same whether or not it has an account."""
    if request.user.is_authenticated and portal.is_donor(request.user):
        return redirect("donations:portal_home")
    form = LoginLinkForm(request.POST or None)
    context = {"form": form, "minutes": login_links.LINK_MINUTES, "sent": False, "limited": False}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                login_links.login_link_request(
                    email=form.cleaned_data["email"], ip_address=_client_ip(request), language=get_language() or ""
                )
            except login_links.RateLimited:
                context["limited"] = True
                context["limited_message"] = ngettext(
                    "Too many sign-in links were asked for. Wait %(minutes)d minute and try again.",
                    "Too many sign-in links were asked for. Wait %(minutes)d minutes and try again.",
                    login_links.LINK_MINUTES,
                ) % {"minutes": login_links.LINK_MINUTES}
                status = 429
            else:
                context["sent"] = True
                context["email"] = form.cleaned_data["email"]
        else:
            status = 400
    return _no_store(render(request, "donations/login_link_request.html", context, status=status))


@login_not_required
@require_http_methods(["GET", "HEAD", "POST"])
def login_link_use_view(request, token: str):
    """Opening the link shows a button (so that mail scanners that follow links do not use it up); pressing it
    signs the donor in once. Used, expired and invalid links are refused with their reason."""
    if request.method == "POST":
        checked = login_links.login_link_use(token=token, ip_address=_client_ip(request))
        if checked.status == login_links.Status.OK:
            user = checked.link.user
            auth_login(request, user, backend=BACKEND)
            response = redirect("donations:portal_home")
            if user.language:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            return _no_store(response)
    else:
        checked = login_links.login_link_check(token)
    if checked.status == login_links.Status.OK:
        status = 200
    elif checked.status == login_links.Status.INVALID:
        status = 400
    else:
        status = 410
    context = {"checked": checked, "message": checked.message, "token": token}
    return _no_store(render(request, "donations/login_link_use.html", context, status=status))
