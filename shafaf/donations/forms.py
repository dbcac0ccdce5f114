"""Forms of the charity's donation pages. They take text; the services decide (and their refusals become field
errors on the form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin
from shafaf.projects.choices import ACTIVE_STATUSES
from shafaf.projects.models import Project

from .models import BankAccount, Campaign, Channel, Donor, DonorKind, Purpose

AMOUNT_HELP = _("In major units with at most the currency's decimals, e.g. 25.125 for KWD.")


class DonorForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=DonorKind.choices, initial=DonorKind.PERSON)
    name_ar = forms.CharField(label=_("name (Arabic)"), max_length=200, required=False)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    email = forms.EmailField(label=_("e-mail"), required=False)
    phone = forms.CharField(label=_("phone"), max_length=30, required=False)
    external_ref = forms.CharField(label=_("charity's donor number"), max_length=100, required=False)
    consent_to_contact = forms.BooleanField(label=_("agrees to be contacted"), required=False)
    show_name_publicly = forms.BooleanField(label=_("name may be shown publicly"), required=False)


class DonationForm(StyledFormMixin, forms.Form):
    donor = forms.ModelChoiceField(label=_("donor"), queryset=Donor.objects.none())
    amount = forms.CharField(label=_("amount"), max_length=40, help_text=AMOUNT_HELP)
    currency = forms.CharField(label=_("currency"), max_length=3, initial="KWD")
    received_at = forms.DateTimeField(
        label=_("received at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    bank_account = forms.ModelChoiceField(label=_("bank account"), queryset=BankAccount.objects.none())
    purpose = forms.ChoiceField(label=_("for"), choices=Purpose.choices)
    project = forms.ModelChoiceField(label=_("project"), queryset=Project.objects.none(), required=False)
    campaign = forms.ModelChoiceField(label=_("campaign"), queryset=Campaign.objects.none(), required=False)
    anonymous = forms.BooleanField(label=_("anonymous to the public"), required=False)
    channel_ref = forms.CharField(label=_("channel reference"), max_length=100, required=False)

    def __init__(self, *args, charity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["donor"].queryset = Donor.objects.filter(charity=charity)
        self.fields["bank_account"].queryset = BankAccount.objects.filter(
            charity=charity, approved_at__isnull=False, is_active=True
        )
        self.fields["project"].queryset = Project.objects.filter(charity=charity, status__in=ACTIVE_STATUSES)
        self.fields["campaign"].queryset = Campaign.objects.filter(charity=charity)


class AllocateForm(StyledFormMixin, forms.Form):
    """One line per licensed project of the charity: a share (whole number) or an amount."""

    MODES = (("shares", _("By shares")), ("amounts", _("By amounts")))
    mode = forms.ChoiceField(label=_("allocate"), choices=MODES, initial="shares")
    reason = forms.CharField(label=_("reason"), max_length=300, required=False)

    def __init__(self, *args, projects, **kwargs):
        super().__init__(*args, **kwargs)
        self.projects = list(projects)
        for project in self.projects:
            self.fields[f"p{project.pk}"] = forms.CharField(
                label=str(project), max_length=40, required=False, help_text=project.reference
            )
        from shafaf.core.forms import style_fields

        style_fields(self)

    def rows(self):
        for project in self.projects:
            value = (self.cleaned_data.get(f"p{project.pk}") or "").strip()
            if value:
                yield project, value


class AmountReasonForm(StyledFormMixin, forms.Form):
    amount = forms.CharField(label=_("amount"), max_length=40, help_text=AMOUNT_HELP)
    reason = forms.CharField(label=_("reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class BankAccountForm(StyledFormMixin, forms.Form):
    bank_name = forms.CharField(label=_("bank"), max_length=200)
    iban = forms.CharField(label=_("IBAN"), max_length=40)
    currency = forms.CharField(label=_("currency"), max_length=3, initial="KWD")


class ImportForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(label=_("channel"), choices=Channel.choices)
    bank_account = forms.ModelChoiceField(label=_("bank account"), queryset=BankAccount.objects.none())
    file = forms.FileField(
        label=_("settlement file"),
        help_text=_(
            "CSV, UTF-8, with the columns channel_ref, received_at, amount and optionally currency, donor_ref, "
            "project, campaign, anonymous."
        ),
    )

    def __init__(self, *args, charity, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_account"].queryset = BankAccount.objects.filter(
            charity=charity, approved_at__isnull=False, is_active=True
        )
