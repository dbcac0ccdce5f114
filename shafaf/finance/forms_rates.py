"""The forms of the rates page: one rate by hand, a CSV table to import."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin

from . import rates_import


class RateForm(StyledFormMixin, forms.Form):
    currency = forms.CharField(label=_("Currency"), max_length=3, help_text=_("ISO 4217 code, such as USD."))
    on_date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    rate = forms.CharField(
        label=_("Rate (KWD per unit)"),
        max_length=40,
        help_text=_("Kuwaiti dinars for one unit of the currency, at most 12 decimals: 0.3065"),
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal"}),
    )
    source = forms.CharField(label=_("Source"), max_length=200, required=False)

    def clean_currency(self):
        try:
            return rates_import.clean_currency(self.cleaned_data["currency"])
        except ValueError as error:
            raise forms.ValidationError(str(error))

    def clean(self):
        data = super().clean()
        if "rate" in data:
            try:
                data["rate"] = rates_import.clean_rate(data["rate"], data.get("currency"))[0]
            except ValueError as error:
                self.add_error("rate", str(error))
        return data


class RateImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_(
            "UTF-8 CSV or Excel workbook with the columns currency,date,rate and optionally source "
            "(or العملة، التاريخ، السعر، المصدر); dates as YYYY-MM-DD."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )
    source = forms.CharField(label=_("Source of rows that give none"), max_length=200, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > rates_import.MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 20 MB."))
        return upload
