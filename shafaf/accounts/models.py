from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from shafaf.core.models import TimeStampedModel

from .choices import ROLES_BY_KIND, TWO_FACTOR_ROLES, Authority, Language, OrganizationKind, Role


class User(AbstractUser):
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.ARABIC)
    # Set only by `manage.py seed_demo`; a demo login skips two-factor while SHAFAF_DEMO_MODE is on.
    is_demo = models.BooleanField(_("demo account"), default=False, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def active_memberships(self):
        return self.memberships.filter(is_active=True, organization__is_active=True).select_related("organization")

    def roles(self) -> set[str]:
        if not self.is_authenticated:
            return set()
        from .permissions import organization_ids_with_role

        organization_ids_with_role(self)  # fills the per-object cache of memberships
        return set(self._shafaf_organizations_by_role)

    def role_labels(self) -> list[str]:
        return [str(Role(r).label) for r in sorted(self.roles())]

    def requires_two_factor(self) -> bool:
        return bool(self.roles() & TWO_FACTOR_ROLES)


class Organization(TimeStampedModel):
    kind = models.CharField(_("kind"), max_length=20, choices=OrganizationKind.choices)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=300)
    name_en = models.CharField(_("name (English)"), max_length=300)
    authority_code = models.CharField(
        _("authority"), max_length=10, choices=Authority.choices, blank=True, help_text=_("For authorities only.")
    )
    mosa_licence_number = models.CharField(_("MOSA licence number"), max_length=40, blank=True)
    iati_org_id = models.CharField(
        _("IATI organisation identifier"),
        max_length=120,
        blank=True,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.:/ -]*$", _("Use letters, digits, '-', '_', '.', ':' or '/'."))
        ],
        help_text=_("For example XM-DAC-41114 or GB-CHC-202918."),
    )
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2 code."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name_en"]
        constraints = [
            models.UniqueConstraint(
                fields=["iati_org_id"], condition=~Q(iati_org_id=""), name="organization_unique_iati_org_id"
            ),
            models.UniqueConstraint(
                fields=["mosa_licence_number"],
                condition=~Q(mosa_licence_number=""),
                name="organization_unique_mosa_licence",
            ),
            models.CheckConstraint(
                condition=Q(kind=OrganizationKind.AUTHORITY) | Q(authority_code=""),
                name="organization_authority_code_only_for_authorities",
            ),
            models.CheckConstraint(condition=~Q(name_ar="") & ~Q(name_en=""), name="organization_names_present"),
        ]

    def __str__(self) -> str:
        return self.display_name()

    def display_name(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        language = language or get_language() or "ar"
        return self.name_en if language.startswith("en") else self.name_ar

    def clean(self):
        if self.kind == OrganizationKind.AUTHORITY and not self.authority_code:
            raise ValidationError({"authority_code": _("An authority must say which ministry it is.")})
        if self.kind != OrganizationKind.AUTHORITY and self.authority_code:
            raise ValidationError({"authority_code": _("Only an authority has a ministry code.")})
        if self.country:
            from shafaf.projects.codelists import COUNTRIES

            if self.country not in COUNTRIES:
                raise ValidationError({"country": _("Unknown country code.")})


class Membership(TimeStampedModel):
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="memberships")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization__name_en", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"

    def clean(self):
        if self.organization_id and self.role not in ROLES_BY_KIND[OrganizationKind(self.organization.kind)]:
            raise ValidationError({"role": _("This role cannot be held in an organisation of this kind.")})


class LoginFailure(models.Model):
    """One failed login, kept for throttling. Old rows are pruned as new ones arrive."""

    username = models.CharField(_("username"), max_length=150, db_index=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True, db_index=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("login failure")
        verbose_name_plural = _("login failures")

    def __str__(self) -> str:
        return f"{self.username} @ {self.at:%Y-%m-%d %H:%M}"


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the key is shown once, when it is made."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
