"""The forms of budgets: a version (its reason and status) with a formset of lines and a formset of periods, the
ministry's licensed administrative share, a planned tranche. Amounts are decimal text in the currency's major units,
read exactly (shafaf.finance.budgets.parse_amount); a bad row shows its own field errors and nothing is saved."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.models import Organization
from shafaf.core.exceptions import DomainError
from shafaf.core.forms import StyledFormMixin
from shafaf.core.money import MoneyError

from .budgets import CODE_MAX_LENGTH, NAME_MAX_LENGTH, parse_amount
from .models import BudgetStatus, LineCategory

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_ROWS = 200


def _amount_field(required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=_("Amount"),
        max_length=40,
        required=required,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off"}),
    )


def _check_amount(form, currency: str, *, allow_zero: bool = True) -> None:
    text = form.cleaned_data.get("amount")
    if not text:
        return
    try:
        parse_amount(text, currency, allow_zero=allow_zero)
    except (MoneyError, DomainError) as error:
        form.add_error("amount", error.message)


class BudgetVersionForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the revision"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}),
        help_text=_("Required for a revision: why the budget changes."),
    )
    status = forms.ChoiceField(label=_("Status"), choices=BudgetStatus.choices, initial=BudgetStatus.INDICATIVE)

    def __init__(self, *args, revision: bool, **kwargs):
        kwargs.setdefault("prefix", "version")
        super().__init__(*args, **kwargs)
        self.revision = revision
        if not revision:
            self.fields["reason"].label = _("Note (optional)")
            self.fields["reason"].help_text = ""

    def clean_reason(self):
        reason = (self.cleaned_data.get("reason") or "").strip()
        if self.revision and not reason:
            raise forms.ValidationError(_("A revision of the budget needs its reason."))
        return reason


class BudgetLineForm(StyledFormMixin, forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=CODE_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr", "size": 6}),
        help_text=_("Empty: the next number."),
    )
    category = forms.ChoiceField(label=_("Category"), choices=[("", "—"), *LineCategory.choices], required=False)
    name_ar = forms.CharField(
        label=_("Name (Arabic)"),
        max_length=NAME_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"dir": "rtl"}),
    )
    name_en = forms.CharField(
        label=_("Name (English)"),
        max_length=NAME_MAX_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    amount = _amount_field(required=False)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(name) for name in ("code", "category", "name_ar", "name_en", "amount"))

    def clean(self):
        data = super().clean()
        if self.is_blank() or data.get("DELETE"):
            return data
        if not data.get("category"):
            self.add_error("category", _("Choose the line's category."))
        if not data.get("name_ar") and not data.get("name_en"):
            self.add_error("name_ar", _("Give the line's name, in Arabic or in English."))
        if not data.get("amount"):
            self.add_error("amount", _("Give the amount (0 to keep the line without money)."))
        _check_amount(self, self.currency)
        return data


class BudgetPeriodForm(StyledFormMixin, forms.Form):
    start = forms.DateField(label=_("Period start"), required=False, widget=DATE)
    end = forms.DateField(label=_("Period end"), required=False, widget=DATE)
    amount = _amount_field(required=False)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(name) for name in ("start", "end", "amount"))

    def clean(self):
        data = super().clean()
        if self.is_blank() or data.get("DELETE"):
            return data
        for name in ("start", "end", "amount"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, _("This field is required."))
        _check_amount(self, self.currency)
        return data


BudgetLineFormSet = forms.formset_factory(
    BudgetLineForm, extra=0, can_delete=True, max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS
)
BudgetPeriodFormSet = forms.formset_factory(
    BudgetPeriodForm, extra=0, can_delete=True, max_num=MAX_ROWS, validate_max=True, absolute_max=MAX_ROWS
)


class AdminShareForm(StyledFormMixin, forms.Form):
    charity = forms.ModelChoiceField(label=_("Charity"), queryset=Organization.objects.none())
    percent = forms.CharField(
        label=_("Licensed administrative share (%)"),
        max_length=10,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal"}),
        help_text=_("Between 0 and 100, at most two decimals: 12.5"),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "share")
        super().__init__(*args, **kwargs)
        self.fields["charity"].queryset = Organization.objects.filter(kind="charity").order_by("name_en")


class TrancheForm(StyledFormMixin, forms.Form):
    number = forms.IntegerField(label=_("Tranche"), min_value=1, max_value=32767)
    planned_on = forms.DateField(label=_("Planned on"), widget=DATE)
    amount = _amount_field()

    def __init__(self, *args, contract, **kwargs):
        kwargs.setdefault("prefix", "tranche")
        super().__init__(*args, **kwargs)
        self.contract = contract
        self.fields["amount"].help_text = _("In %(currency)s, the contract's currency.") % {
            "currency": contract.currency
        }

    def clean(self):
        data = super().clean()
        _check_amount(self, self.contract.currency, allow_zero=False)
        return data
