"""One-time sign-in links for donor accounts.

A donor gives an e-mail address; if it belongs to an active donor account (one that needs no second factor),
a link is e-mailed that signs it into the donor portal once, within LINK_MINUTES. The answer is the same whether
or not the address has an account, and requests are limited per address and per IP address. The link carries
the link's id and a random secret, signed with the site's secret key (django.core.signing) and timestamped;
the database keeps only the secret's SHA-256, and claims the link with a conditional UPDATE so that it works
once even when opened twice at the same moment. Requests and uses are audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from shafaf.accounts.choices import TWO_FACTOR_ROLES, Role
from shafaf.audit.services import record

from .models import LoginLink, LoginLinkRequest

logger = logging.getLogger(__name__)

SALT = "shafaf.donations.login-link"
LINK_MINUTES = 15
WINDOW = dt.timedelta(minutes=15)
MAX_PER_EMAIL = 3
MAX_PER_IP = 20


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_hash(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode("utf-8")).hexdigest()


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def donor_accounts_for(email: str):
    """Active donor accounts with this address that may sign in with a link (no second factor needed)."""
    User = get_user_model()
    email = normalise_email(email)
    if not email:
        return []
    users = User.objects.filter(email__iexact=email, is_active=True)
    return [user for user in users if Role.DONOR in user.roles() and not (user.roles() & TWO_FACTOR_ROLES)]


class RateLimited(Exception):
    """Too many requests for this address or from this IP address within the window."""


@transaction.atomic
def login_link_request(*, email: str, ip_address: str | None, language: str = "") -> int:
    """Records the request and, for each donor account with this address, makes a link and e-mails it after
    commit. Returns how many links were made (the caller must not tell the visitor: no account enumeration).
    RateLimited when the address or the IP address asked too often within the window."""
    now = timezone.now()
    hashed = email_hash(email)
    recent = LoginLinkRequest.objects.filter(requested_at__gte=now - WINDOW)
    if recent.filter(email_hash=hashed).count() >= _limit("SHAFAF_LOGIN_LINKS_PER_EMAIL", MAX_PER_EMAIL) or (
        ip_address and recent.filter(ip_address=ip_address).count() >= _limit("SHAFAF_LOGIN_LINKS_PER_IP", MAX_PER_IP)
    ):
        raise RateLimited
    LoginLinkRequest.objects.filter(requested_at__lt=now - WINDOW).delete()
    request = LoginLinkRequest.objects.create(email_hash=hashed, ip_address=ip_address or None, requested_at=now)
    accounts = donor_accounts_for(email)
    made = []
    for user in accounts:
        secret = secrets.token_urlsafe(32)
        link = LoginLink.objects.create(
            user=user,
            secret_hash=_secret_hash(secret),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=LINK_MINUTES),
            requested_from=ip_address or None,
        )
        made.append((user, link, signing.dumps([link.pk, secret], salt=SALT)))
        record(
            actor=None,
            action="donor.login_link.send",
            subject=link,
            changes={"user": user.pk, "expires_at": link.expires_at, "ip_address": ip_address},
        )
    record(
        actor=None,
        action="donor.login_link.request",
        subject=request,
        changes={"ip_address": ip_address, "links": len(made)},
    )
    for user, _link, token in made:
        transaction.on_commit(lambda user=user, token=token: _send(user, token, language))
    return len(made)


def link_url(token: str) -> str:
    return settings.SHAFAF_BASE_URL.rstrip("/") + reverse("donations:login_link_use", kwargs={"token": token})


def _send(user, token: str, language: str) -> None:
    with translation.override(user.language or language or settings.LANGUAGE_CODE):
        subject = _("Your sign-in link for Shafaf")
        body = ngettext(
            "Open this link to sign in to your donor portal on Shafaf:\n\n%(url)s\n\n"
            "The link works once and expires in %(minutes)d minute. If you did not ask for it, ignore this e-mail: "
            "nobody can sign in without opening it.",
            "Open this link to sign in to your donor portal on Shafaf:\n\n%(url)s\n\n"
            "The link works once and expires in %(minutes)d minutes. If you did not ask for it, ignore this e-mail: "
            "nobody can sign in without opening it.",
            LINK_MINUTES,
        ) % {"url": link_url(token), "minutes": LINK_MINUTES}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception:  # the donor can ask for another link
        logger.exception("sign-in link for user %s: the e-mail could not be sent", user.pk)


class Status:
    OK = "ok"
    INVALID = "invalid"
    EXPIRED = "expired"
    USED = "used"


@dataclass(frozen=True)
class Checked:
    status: str
    link: LoginLink | None = None

    @property
    def message(self) -> str:
        return {
            Status.OK: "",
            Status.INVALID: _("This sign-in link is not valid. Ask for a new one."),
            Status.EXPIRED: ngettext(
                "This sign-in link has expired: links work for %(minutes)d minute. Ask for a new one.",
                "This sign-in link has expired: links work for %(minutes)d minutes. Ask for a new one.",
                LINK_MINUTES,
            )
            % {"minutes": LINK_MINUTES},
            Status.USED: _("This sign-in link has already been used: each link works once. Ask for a new one."),
        }[self.status]


def login_link_check(token: str, *, now=None) -> Checked:
    """What a link is worth, without using it."""
    now = now or timezone.now()
    try:
        link_id, secret = signing.loads(token, salt=SALT)
        link_id, secret = int(link_id), str(secret)
    except (signing.BadSignature, ValueError, TypeError):
        return Checked(Status.INVALID)
    link = LoginLink.objects.select_related("user").filter(pk=link_id).first()
    if link is None or not hmac.compare_digest(link.secret_hash, _secret_hash(secret)):
        return Checked(Status.INVALID)
    user = link.user
    if not user.is_active or Role.DONOR not in user.roles() or user.roles() & TWO_FACTOR_ROLES:
        return Checked(Status.INVALID)
    if link.used_at is not None:
        return Checked(Status.USED, link)
    if link.expires_at <= now:
        return Checked(Status.EXPIRED, link)
    return Checked(Status.OK, link)


@transaction.atomic
def login_link_use(*, token: str, ip_address: str | None) -> Checked:
    """Claims the link (once, even when opened twice at the same moment) and audits it; the caller signs the
    returned link's user in when the status is OK."""
    now = timezone.now()
    checked = login_link_check(token, now=now)
    if checked.status != Status.OK:
        return checked
    link = checked.link
    claimed = LoginLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now, used_from=ip_address or None
    )
    if not claimed:
        return login_link_check(token, now=now)
    link.used_at, link.used_from = now, ip_address or None
    record(
        actor=link.user,
        action="donor.login_link.use",
        subject=link,
        changes={"used_at": now, "ip_address": ip_address},
        role=Role.DONOR,
    )
    return Checked(Status.OK, link)
