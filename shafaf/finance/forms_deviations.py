"""The forms of the deviation workflow and of the ministry's finance settings. The services check every rule
again; the forms give the same errors on their fields first."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin

from .deviations import APPROVE, MIN_JUSTIFICATION, REJECT, percent_text


class JustifyForm(StyledFormMixin, forms.Form):
    text = forms.CharField(
        label=_("Justification"),
        min_length=MIN_JUSTIFICATION,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
        help_text=_("Why the spending passed the budget, in at least 20 characters: the ministry decides on it."),
    )


class DecideForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve the deviation")), (REJECT, _("Reject the deviation"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note to the charity"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_("Required when rejecting."),
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == REJECT and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the deviation is rejected: the charity will read it."))
        return data


def _text_input(**attrs):
    return forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off", **attrs})


class FinanceSettingsForm(StyledFormMixin, forms.Form):
    line_threshold_percent = forms.CharField(
        label=_("Line threshold (%)"),
        max_length=12,
        widget=_text_input(),
        help_text=_("Spending more than this above a budget line's amount opens a deviation (10 by default)."),
    )
    total_threshold_percent = forms.CharField(
        label=_("Total threshold (%)"),
        max_length=12,
        widget=_text_input(),
        help_text=_("Spending more than this above the whole budget opens a deviation (5 by default)."),
    )
    warning_percent = forms.CharField(
        label=_("Warn at (percent of the way to the threshold)"),
        max_length=4,
        widget=_text_input(inputmode="numeric"),
        help_text=_("80: with a 10 % threshold, a warning shows from 108 % of the amount."),
    )
    rate_max_age_days = forms.CharField(
        label=_("Oldest usable exchange rate (days)"),
        max_length=4,
        widget=_text_input(inputmode="numeric"),
        help_text=_("A conversion uses the rate of its date, or the latest before it within this many days."),
    )

    @classmethod
    def initial_from(cls, row) -> dict:
        return {
            "line_threshold_percent": percent_text(row.line_threshold_bp),
            "total_threshold_percent": percent_text(row.total_threshold_bp),
            "warning_percent": str(row.warning_percent),
            "rate_max_age_days": str(row.rate_max_age_days),
        }
