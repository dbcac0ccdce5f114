"""The forms of expenditures: one expenditure with its invoice or receipt, and a spreadsheet to import. Amounts are
typed as decimal text in the currency's major units and read exactly by the service (never as floats)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin
from shafaf.projects.codelists import CURRENCIES

from .expenditures import ENTERED_EVIDENCE
from .models import BudgetLine, EvidenceKind, Expenditure

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ExpenditureForm(StyledFormMixin, forms.Form):
    line = forms.TypedChoiceField(label=_("Budget line"), coerce=int)
    amount = forms.CharField(
        label=_("Amount"),
        max_length=40,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("In the currency's units, with at most its decimals: 1250.500 for a dinar amount."),
    )
    currency = forms.ChoiceField(label=_("Currency"))
    spent_on = forms.DateField(label=_("Date"), widget=DATE)
    evidence_kind = forms.ChoiceField(
        label=_("Evidence"), choices=[(kind.value, kind.label) for kind in EvidenceKind if kind in ENTERED_EVIDENCE]
    )
    reference = forms.CharField(
        label=_("Invoice or receipt number"),
        max_length=Expenditure._meta.get_field("reference").max_length,
        required=False,
        widget=forms.TextInput(attrs={"dir": "ltr"}),
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=Expenditure._meta.get_field("place").max_length,
        required=False,
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=Expenditure._meta.get_field("description").max_length,
        required=False,
        widget=forms.TextInput(attrs={"dir": "auto"}),
    )
    file = forms.FileField(
        label=_("Invoice or receipt"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"}),
        help_text=_("PDF or image (JPEG, PNG, WebP)."),
    )

    def __init__(self, *args, project, **kwargs):
        kwargs.setdefault("prefix", "expenditure")
        super().__init__(*args, **kwargs)
        lines = BudgetLine.objects.filter(project=project).order_by("code")
        self.lines = {line.pk: line for line in lines}
        self.fields["line"].choices = [("", "—")] + [
            (line.pk, f"{line.code} · {line.name_ar or line.name_en}".rstrip(" ·")) for line in lines
        ]
        self.fields["currency"].choices = CURRENCIES.choices()
        self.fields["currency"].initial = project.currency

    def clean_line(self):
        return self.lines[self.cleaned_data["line"]]


class ExpenditureImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
        help_text=_(
            "CSV (UTF-8 or UTF-16, comma or semicolon) or Excel (.xlsx). The first row names the columns, in English "
            "or Arabic: line code, amount, currency, date (yyyy-mm-dd), reference, place, description, evidence kind "
            "(invoice or receipt)."
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "import")
        super().__init__(*args, **kwargs)
