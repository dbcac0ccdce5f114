from __future__ import annotations

import base64
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from shafaf.core.exceptions import DomainError
from shafaf.core.views import apply_domain_error, flash_saved
from shafaf.interop.tables import Column, attr, export_filtered

from . import permissions, selectors, services
from .filters import OrganizationFilter
from .forms import (
    ApiTokenForm,
    LanguageForm,
    LoginForm,
    MembershipForm,
    OrganizationForm,
    PasswordResetForm,
    SetPasswordForm,
    TwoFactorForm,
)
from .models import ApiToken, Membership


def _client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@login_not_required
def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request, data=request.POST or None)
    status, locked_message = 200, ""
    if request.method == "POST":
        username = request.POST.get("username", "")
        ip = _client_ip(request)
        if services.login_is_locked(username=username, ip_address=ip):
            # Refuse before checking the password, so a locked account cannot be probed.
            form = LoginForm(request, initial={"username": username})
            minutes = max(1, settings.SHAFAF_LOGIN_WINDOW_SECONDS // 60)
            locked_message = form.error_messages["locked"] % {"minutes": minutes}
            status = 429
        elif form.is_valid():
            user = form.get_user()
            auth_login(request, user)
            services.login_succeeded(user=user, ip_address=ip)
            response = HttpResponseRedirect(_safe_next(request, reverse("home")))
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            return response
        else:
            services.login_failed(username=username, ip_address=ip)
            status = 400
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": _safe_next(request, ""), "locked_message": locked_message},
        status=status,
    )


@require_POST
def logout_view(request):
    auth_logout(request)
    return redirect("accounts:login")


def two_factor_view(request):
    """Enrol a TOTP device on the first login, then confirm a code at every login."""
    user = request.user
    device = services.two_factor_device_for(user)
    form = TwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.two_factor_confirm(actor=user, device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_safe_next(request, reverse("home")))
        form.add_error("token", _("This code is not right, or it has expired. Try the newest code."))
    context = {"form": form, "enrolling": not device.confirmed, "next": _safe_next(request, "")}
    if not device.confirmed:
        context["otpauth_url"] = device.config_url
        context["secret"] = base64.b32encode(device.bin_key).decode("ascii")
        context["qr_svg"] = _qr_svg(device.config_url)
    return render(request, "accounts/two_factor.html", context, status=200 if request.method == "GET" else 400)


def _qr_svg(data: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


@login_not_required
@require_POST
def set_language_view(request):
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return redirect("home")
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        services.user_set_language(actor=request.user, language=language)
    translation.activate(language)
    response = redirect(_safe_next(request, reverse("home")))
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax", max_age=365 * 24 * 3600)
    return response


def profile_view(request):
    token_form = ApiTokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and token_form.is_valid():
        try:
            _token, new_key = services.api_token_create(
                actor=request.user, user=request.user, name=token_form.cleaned_data["name"]
            )
            token_form = ApiTokenForm()
        except DomainError as error:
            apply_domain_error(token_form, error)
    context = {
        "token_form": token_form,
        "new_key": new_key,
        "tokens": request.user.api_tokens.all(),
        "memberships": request.user.active_memberships(),
        "language_form": LanguageForm(initial={"language": request.user.language}),
    }
    return render(request, "accounts/profile.html", context)


@require_POST
def token_revoke_view(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")


ORGANIZATION_COLUMNS = [
    Column("name_ar", _lazy("Name (Arabic)"), attr("name_ar")),
    Column("name_en", _lazy("Name (English)"), attr("name_en")),
    Column("kind", _lazy("Kind"), attr("get_kind_display")),
    Column("iati_org_id", _lazy("IATI organisation identifier"), attr("iati_org_id")),
    Column("mosa_licence_number", _lazy("MOSA licence number"), attr("mosa_licence_number")),
    Column("country", _lazy("Country"), attr("country")),
    Column("is_active", _lazy("Active"), attr("is_active")),
]


def organization_list_view(request):
    queryset = selectors.organizations_visible_to(request.user).order_by("name_en", "id")
    filterset = OrganizationFilter(request.GET or None, queryset=queryset)
    if (response := export_filtered(request, filterset, ORGANIZATION_COLUMNS, "organizations")) is not None:
        return response
    from django.core.paginator import Paginator

    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    template = "accounts/_organization_table.html" if request.htmx else "accounts/organization_list.html"
    return render(
        request,
        template,
        {"filter": filterset, "page": page, "can_create": permissions.can_create_organization(request.user)},
    )


def organization_detail_view(request, pk: int):
    organization = get_object_or_404(selectors.organizations_visible_to(request.user), pk=pk)
    can_manage = permissions.can_manage_memberships(request.user, organization)
    form = MembershipForm(organization=organization)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        form = MembershipForm(request.POST, organization=organization)
        if form.is_valid():
            try:
                services.member_invite(
                    actor=request.user,
                    organization=organization,
                    username=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                    email=form.cleaned_data["email"],
                    first_name=form.cleaned_data["first_name"],
                    last_name=form.cleaned_data["last_name"],
                )
                flash_saved(request)
                return redirect("accounts:organization_detail", pk=organization.pk)
            except DomainError as error:
                apply_domain_error(form, error)
    context = {
        "organization": organization,
        "memberships": selectors.memberships_visible_to(request.user, organization),
        "can_manage": can_manage,
        "can_edit": permissions.can_edit_organization(request.user, organization),
        "form": form,
    }
    return render(request, "accounts/organization_detail.html", context, status=400 if form.errors else 200)


def organization_form_view(request, pk: int | None = None):
    organization = None
    if pk is not None:
        organization = get_object_or_404(selectors.organizations_visible_to(request.user), pk=pk)
        if not permissions.can_edit_organization(request.user, organization):
            raise PermissionDenied
        editable = None if permissions.is_ministry(request.user) else ["name_ar", "name_en", "iati_org_id", "country"]
    else:
        if not permissions.can_create_organization(request.user):
            raise PermissionDenied
        editable = None
    form = OrganizationForm(request.POST or None, instance=organization, editable_fields=editable)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.fields}
        try:
            if organization is None:
                organization = services.organization_create(actor=request.user, **data)
            else:
                organization = services.organization_update(actor=request.user, organization=organization, **data)
            flash_saved(request)
            return redirect("accounts:organization_detail", pk=organization.pk)
        except DomainError as error:
            apply_domain_error(form, error)
    return render(
        request,
        "accounts/organization_form.html",
        {"form": form, "organization": organization},
        status=400 if form.errors else 200,
    )


@require_POST
def membership_deactivate_view(request, pk: int):
    membership = get_object_or_404(Membership, pk=pk)
    organization = get_object_or_404(selectors.organizations_visible_to(request.user), pk=membership.organization_id)
    if not permissions.can_manage_memberships(request.user, organization):
        raise PermissionDenied
    try:
        services.membership_deactivate(actor=request.user, membership=membership)
        messages.success(request, _("The membership was ended."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("accounts:organization_detail", pk=organization.pk)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The link from an invitation or a password reset: choose a password, then sign in."""

    form_class = SetPasswordForm
    template_name = "accounts/set_password.html"
    success_url = reverse_lazy("accounts:set_password_done")


class SetPasswordDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/set_password_done.html"


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"
