from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.forms import SetPasswordForm as DjangoSetPasswordForm
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin
from shafaf.projects.codelists import COUNTRIES

from .choices import ROLES_BY_KIND, Language, OrganizationKind, Role
from .models import Organization, User


class LoginForm(StyledFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": _("The username or password is not right. Both are case-sensitive."),
        "inactive": _("This account is disabled."),
        "locked": _("Too many failed attempts. Wait %(minutes)s minutes and try again."),
    }


class TwoFactorForm(StyledFormMixin, forms.Form):
    token = forms.CharField(
        label=_("Six-digit code"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "dir": "ltr"}),
    )


class LanguageForm(StyledFormMixin, forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class ApiTokenForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label=_("Token name"), max_length=100, help_text=_("What the token is for, e.g. 'finance system'.")
    )


class OrganizationForm(StyledFormMixin, forms.ModelForm):
    country = forms.ChoiceField(label=_("Country"), required=False)

    class Meta:
        model = Organization
        fields = [
            "kind",
            "slug",
            "name_ar",
            "name_en",
            "authority_code",
            "mosa_licence_number",
            "iati_org_id",
            "country",
            "is_active",
        ]
        widgets = {"name_ar": forms.TextInput(attrs={"dir": "rtl"}), "name_en": forms.TextInput(attrs={"dir": "ltr"})}

    def __init__(self, *args, editable_fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "—"), *COUNTRIES.choices()]
        if editable_fields is not None:
            for name in list(self.fields):
                if name not in editable_fields:
                    del self.fields[name]


class MembershipForm(StyledFormMixin, forms.Form):
    """Adds a member: an existing user by username, or a new one (invited by e-mail to choose a password)."""

    username = forms.CharField(label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()])
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    email = forms.EmailField(
        label=_("E-mail"), required=False, help_text=_("Needed for a new user: the invitation goes there.")
    )
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)

    def __init__(self, *args, organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organization is not None:
            allowed = ROLES_BY_KIND[OrganizationKind(organization.kind)]
            self.fields["role"].choices = [(value, label) for value, label in Role.choices if value in allowed]

    def clean(self):
        cleaned = super().clean()
        username = (cleaned.get("username") or "").strip()
        existing = User.objects.filter(username=username).first() if username else None
        if existing is not None and not existing.is_active:
            self.add_error("username", _("This user's account is disabled."))
        if username and existing is None and not cleaned.get("email"):
            self.add_error("email", _("This field is required for a new user."))
        return cleaned


class SetPasswordForm(StyledFormMixin, DjangoSetPasswordForm):
    """Django's form (validators, confirmation), saving through the audited service."""

    def save(self, commit=True):
        from .services import user_set_password

        return user_set_password(actor=self.user, user=self.user, password=self.cleaned_data["new_password1"])


class PasswordResetForm(StyledFormMixin, DjangoPasswordResetForm):
    pass
