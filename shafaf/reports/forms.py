import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.projects.models import ProjectDocument
from shafaf.strategy.forms import clean_indicator_values, indicator_value_fields

from .services import REVIEW_COMMENT_MAX_LENGTH


class ReportForm(forms.Form):
    period_start = forms.TypedChoiceField(
        label=_("Reporting period"), choices=(), required=True, coerce=dt.date.fromisoformat
    )
    narrative_ar = forms.CharField(
        label=_("Narrative (Arabic)"), required=False, widget=forms.Textarea(attrs={"rows": 6, "dir": "rtl"})
    )
    narrative_en = forms.CharField(
        label=_("Narrative (English)"), required=False, widget=forms.Textarea(attrs={"rows": 6, "dir": "ltr"})
    )
    evidence = forms.ModelMultipleChoiceField(
        label=_("Evidence"),
        queryset=ProjectDocument.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Documents and photos of this project that support the report."),
    )

    def __init__(
        self, *args, project, periods=None, indicators=(), indicator_values=None, indicator_evidence=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = ProjectDocument.objects.filter(project=project)
        if periods is None:  # editing: the period does not change
            del self.fields["period_start"]
        else:
            self.fields["period_start"].choices = [(p["period_start"].isoformat(), p["period"]) for p in periods]
        self.indicators = list(indicators)
        indicator_value_fields(
            self,
            self.indicators,
            self.fields["evidence"].queryset,
            initial_values=indicator_values,
            initial_evidence=indicator_evidence,
        )

    def report_fields(self):
        return [
            field for field in self if not hasattr(field.field, "indicator") and not field.name.endswith("_evidence")
        ]

    def indicator_rows(self):
        """(value field, evidence field) per project indicator."""
        return [
            (self[name], self[f"{name}_evidence"]) for name, field in self.fields.items() if hasattr(field, "indicator")
        ]

    def clean(self):
        cleaned = super().clean()
        if self.indicators:
            cleaned["indicator_values"], cleaned["indicator_evidence"] = clean_indicator_values(self)
        return cleaned

    def service_fields(self) -> dict:
        """What report_create / report_update take: the indicator values as {code: text} with their evidence."""
        names = ("period_start", "narrative_ar", "narrative_en", "evidence", "indicator_values", "indicator_evidence")
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=REVIEW_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to return a report: what the charity must change."),
    )
