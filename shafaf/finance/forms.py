"""The forms of contracts and disbursements. Amounts are typed as decimal text in the currency's major units
("1250.500" for KWD, Arabic-Indic digits accepted) and read exactly (shafaf.core.money), never as floats."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin
from shafaf.core.money import MoneyError, parse_money
from shafaf.projects.codelists import CURRENCIES

from .models import Contract, Disbursement

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CONTRACT_FILE = forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"})


def _amount_field() -> forms.CharField:
    return forms.CharField(
        label=_("Amount"),
        max_length=40,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("In the currency's units, with its decimals: 1250.500 for a dinar amount."),
    )


def _check_amount(form, currency: str) -> None:
    """Puts an unreadable amount (or one with too many decimals) on the amount field."""
    text = form.cleaned_data.get("amount")
    if not text or not currency:
        return
    try:
        money = parse_money(text, currency)
    except MoneyError as error:
        form.add_error("amount", error.message)
        return
    if not money.is_positive():
        form.add_error("amount", _("The amount must be more than zero."))


class ContractForm(StyledFormMixin, forms.Form):
    number = forms.CharField(
        label=_("Contract number"),
        max_length=Contract._meta.get_field("number").max_length,
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=DATE)
    amount = _amount_field()
    currency = forms.ChoiceField(label=_("Currency"))
    file = forms.FileField(
        label=_("Signed contract"),
        required=False,
        widget=CONTRACT_FILE,
        help_text=_("PDF or image; it can also be uploaded later. A settlement with a suspended partner needs it."),
    )

    def __init__(self, *args, project, **kwargs):
        kwargs.setdefault("prefix", "contract")
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = CURRENCIES.choices()
        self.fields["currency"].initial = project.currency

    def clean(self):
        data = super().clean()
        _check_amount(self, data.get("currency") or "")
        return data


class DisbursementForm(StyledFormMixin, forms.Form):
    amount = _amount_field()
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE)
    reference = forms.CharField(
        label=_("Transfer reference"),
        max_length=Disbursement._meta.get_field("reference").max_length,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )

    def __init__(self, *args, contract, **kwargs):
        kwargs.setdefault("prefix", "disbursement")
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.fields["amount"].help_text = _("In %(currency)s, the contract's currency.") % {
            "currency": contract.currency
        }

    def clean(self):
        data = super().clean()
        _check_amount(self, self.contract.currency)
        return data


class ContractDocumentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=_("Signed contract"), widget=CONTRACT_FILE, help_text=_("PDF or image."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "document")
        super().__init__(*args, **kwargs)
