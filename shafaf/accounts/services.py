"""Every write to users, organisations, memberships and tokens. Each is atomic and audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shafaf.audit import services as audit
from shafaf.core.exceptions import DomainError, NotAllowed

from . import permissions
from .models import ApiToken, Membership, Organization, User

ORGANIZATION_FIELDS = (
    "kind",
    "slug",
    "name_ar",
    "name_en",
    "authority_code",
    "mosa_licence_number",
    "iati_org_id",
    "country",
    "is_active",
)


def _snapshot(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


def _validate(obj) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise DomainError(_("Please correct the errors below."), code="invalid", fields=exc.message_dict) from exc


def organization_create(*, actor, **data) -> Organization:
    if actor is not None and not permissions.can_create_organization(actor):
        raise NotAllowed(_("Only a ministry administrator can register organisations."))
    organization = Organization(**{k: v for k, v in data.items() if k in ORGANIZATION_FIELDS})
    _validate(organization)
    with transaction.atomic():
        organization.save()
        audit.record(
            actor=actor,
            action="organization.create",
            subject=organization,
            organization=organization,
            changes=audit.diff({}, _snapshot(organization, ORGANIZATION_FIELDS)),
        )
    return organization


def organization_update(*, actor, organization: Organization, **data) -> Organization:
    if not permissions.can_edit_organization(actor, organization):
        raise NotAllowed(_("You cannot edit this organisation."))
    editable = set(ORGANIZATION_FIELDS)
    if not permissions.is_ministry(actor):
        # A charity keeps its own names and identifiers up to date; its kind, licence and standing are the ministry's.
        editable -= {"kind", "slug", "mosa_licence_number", "is_active", "authority_code"}
    refused = sorted(set(data) - editable)
    if refused:
        raise NotAllowed(_("You cannot change these fields: %(fields)s") % {"fields": ", ".join(refused)})
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        before = _snapshot(organization, ORGANIZATION_FIELDS)
        for key, value in data.items():
            setattr(organization, key, value)
        _validate(organization)
        changes = audit.diff(before, _snapshot(organization, ORGANIZATION_FIELDS))
        if changes:
            organization.save()
            audit.record(
                actor=actor,
                action="organization.update",
                subject=organization,
                organization=organization,
                changes=changes,
            )
    return organization


def user_create(
    *,
    actor,
    username: str,
    password: str | None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "ar",
    is_demo: bool = False,
) -> User:
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, language=language)
    user.is_demo = is_demo
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    _validate(user)
    with transaction.atomic():
        user.save()
        audit.record(
            actor=actor,
            action="user.create",
            subject=user,
            changes={"username": [None, username], "email": [None, email], "is_demo": [None, is_demo]},
        )
    return user


def user_set_language(*, actor: User, language: str) -> User:
    if language not in {"ar", "en"}:
        raise DomainError(_("Unknown language."), code="invalid", fields={"language": [_("Choose Arabic or English.")]})
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=actor.pk)
        if user.language != language:
            audit.record(
                actor=actor, action="user.set_language", subject=user, changes={"language": [user.language, language]}
            )
            user.language = language
            user.save(update_fields=["language"])
    actor.language = language
    return user


def membership_create(*, actor, user: User, organization: Organization, role: str) -> Membership:
    if actor is not None and not permissions.can_manage_memberships(actor, organization):
        raise NotAllowed(_("You cannot manage the members of this organisation."))
    membership = Membership(user=user, organization=organization, role=role)
    _validate(membership)
    try:
        with transaction.atomic():
            membership.save()
            audit.record(
                actor=actor,
                action="membership.create",
                subject=membership,
                organization=organization,
                changes={"user": [None, user.username], "role": [None, role]},
            )
    except IntegrityError as exc:
        raise DomainError(_("This user already holds this role here."), code="duplicate") from exc
    return membership


def membership_deactivate(*, actor, membership: Membership, reason: str = "") -> Membership:
    if not permissions.can_manage_memberships(actor, membership.organization):
        raise NotAllowed(_("You cannot manage the members of this organisation."))
    if actor is not None and membership.user_id == actor.pk:
        raise DomainError(_("You cannot remove your own membership."), code="self_removal")
    with transaction.atomic():
        updated = Membership.objects.filter(pk=membership.pk, is_active=True).update(is_active=False)
        if updated:
            membership.is_active = False
            audit.record(
                actor=actor,
                action="membership.deactivate",
                subject=membership,
                organization=membership.organization,
                changes={"is_active": [True, False]},
                reason=reason,
            )
    return membership


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def api_token_create(*, actor: User, user: User, name: str) -> tuple[ApiToken, str]:
    """Makes a personal API token and returns it with its key, which is never shown again."""
    if actor is not None and actor.pk != user.pk:
        raise NotAllowed(_("You can only create API tokens for yourself."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Name the token."), code="invalid", fields={"name": [_("This field is required.")]})
    key = "shf_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name[:100], prefix=key[:12], key_hash=hash_key(key))
        audit.record(
            actor=actor or user, action="api_token.create", subject=token, changes={"name": [None, token.name]}
        )
    return token, key


def api_token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk:
        raise NotAllowed(_("You can only revoke your own API tokens."))
    with transaction.atomic():
        now = timezone.now()
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now):
            token.revoked_at = now
            audit.record(actor=actor, action="api_token.revoke", subject=token, changes={"revoked_at": [None, now]})
    return token


LAST_USED_PRECISION = dt.timedelta(minutes=1)


def api_token_authenticate(key: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        # "Last used" to the minute: writing the token's row on every request would serialise a client's calls.
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


# --- login throttling and two-factor -------------------------------------------------------------


def login_is_locked(*, username: str, ip_address: str | None) -> bool:
    """True when this username, or this address, failed too often within the window."""
    from datetime import timedelta

    from django.conf import settings

    from .models import LoginFailure

    since = timezone.now() - timedelta(seconds=settings.SHAFAF_LOGIN_WINDOW_SECONDS)
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= settings.SHAFAF_LOGIN_MAX_FAILURES:
        return True
    return (
        bool(ip_address) and recent.filter(ip_address=ip_address).count() >= settings.SHAFAF_LOGIN_MAX_FAILURES_PER_IP
    )


def login_failed(*, username: str, ip_address: str | None) -> None:
    from datetime import timedelta

    from django.conf import settings

    from .models import LoginFailure

    with transaction.atomic():
        LoginFailure.objects.filter(
            at__lt=timezone.now() - timedelta(seconds=settings.SHAFAF_LOGIN_WINDOW_SECONDS)
        ).delete()
        LoginFailure.objects.create(username=username.lower()[:150], ip_address=ip_address or None)


def login_succeeded(*, user: User, ip_address: str | None) -> None:
    from .models import LoginFailure

    with transaction.atomic():
        LoginFailure.objects.filter(username=user.username.lower()).delete()
        # Filed under the user's organisation, so that its administrators see their members' sign-ins.
        membership = user.active_memberships().order_by("created_at", "id").first()
        audit.record(
            actor=user,
            action="user.login",
            subject=user,
            organization=membership.organization if membership else None,
            changes={"ip_address": [None, ip_address]},
        )


def two_factor_device_for(user: User):
    """The user's TOTP device, confirmed or waiting for its first code; made when there is none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Shafaf", confirmed=False)
    return device


def two_factor_confirm(*, actor: User, device, token: str) -> bool:
    """Checks a code; the first good code confirms a new device (audited)."""
    token = (token or "").strip().replace(" ", "")
    if not token.isdigit() or not device.verify_token(token):
        return False
    if not device.confirmed:
        with transaction.atomic():
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            audit.record(
                actor=actor, action="user.two_factor_enrol", subject=actor, changes={"two_factor": [False, True]}
            )
    return True


# --- invitations and passwords ---------------------------------------------------------------------


def member_invite(
    *,
    actor,
    organization: Organization,
    username: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
) -> Membership:
    """Gives a user a role in an organisation, creating the user first when the username is new.

    A new user gets no password: an e-mail, sent once the transaction commits, lets them choose one.
    """
    from .choices import Role
    from .tasks import send_invitation

    if actor is not None and not permissions.can_manage_memberships(actor, organization):
        raise NotAllowed(_("You cannot manage the members of this organisation."))
    username = (username or "").strip()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        created = user is None
        if created:
            if not email:
                raise DomainError(
                    _("A new user needs an e-mail address for the invitation."),
                    code="invalid",
                    fields={"email": [_("This field is required for a new user.")]},
                )
            language = getattr(actor, "language", "ar") or "ar"
            user = user_create(
                actor=actor,
                username=username,
                password=None,
                email=email,
                first_name=first_name,
                last_name=last_name,
                language=language,
            )
        membership = membership_create(actor=actor, user=user, organization=organization, role=role)
        if created:
            role_label = str(Role(role).label)
            transaction.on_commit(lambda: send_invitation.enqueue(user.pk, organization.pk, role_label))
    return membership


def user_set_password(*, actor, user: User, password: str) -> User:
    """Sets a password (already validated by the form) and records that it changed, never the password."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(actor=actor, action="user.set_password", subject=user, changes={"password": ["***", "***"]})
    return user
