import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.projects.models import ProjectDocument

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

    def __init__(self, *args, project, periods=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = ProjectDocument.objects.filter(project=project)
        if periods is None:  # editing: the period does not change
            del self.fields["period_start"]
        else:
            self.fields["period_start"].choices = [(p["period_start"].isoformat(), p["period"]) for p in periods]


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=REVIEW_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required to return a report: what the charity must change."),
    )
