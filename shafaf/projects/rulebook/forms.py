from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin, style_fields

from . import checks
from .engine import EffectiveSetting
from .models import Severity


class RuleSettingForm(StyledFormMixin, forms.Form):
    """One check's setting: enabled, severity, and a field per threshold (built from the check)."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices)

    def __init__(self, *args, check: checks.Check, setting: EffectiveSetting, **kwargs):
        self.check = check
        initial = {"enabled": setting.enabled, "severity": setting.severity, **setting.thresholds}
        kwargs.setdefault("prefix", check.code)
        super().__init__(*args, initial=initial, **kwargs)
        for threshold in check.thresholds:
            if threshold.is_bool:
                field = forms.BooleanField(label=threshold.label, required=False)
            else:
                field = forms.IntegerField(
                    label=threshold.label,
                    min_value=threshold.min_value,
                    max_value=threshold.max_value,
                    help_text=threshold.help_text,
                )
            self.fields[threshold.key] = field
        self.fields["reason"] = forms.CharField(
            label=_("Reason for the change"),
            required=False,
            max_length=500,
            help_text=_("Kept with the change in the audit trail."),
        )
        style_fields(self)  # the mixin styled the fields of the class; these are added here

    def threshold_values(self) -> dict:
        return {t.key: self.cleaned_data[t.key] for t in self.check.thresholds}

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        _values, errors = checks.clean_thresholds(self.check, self.threshold_values())
        for key, messages in errors.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)
        return cleaned
