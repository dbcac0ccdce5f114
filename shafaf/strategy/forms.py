"""The forms of the strategy pages. They check the shape of the input (field errors); the services check the
domain rules (DomainError, put back onto the form by the views)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.models import Organization
from shafaf.core.forms import StyledFormMixin

from . import values
from .choices import Aggregation, Direction, ObjectiveKind, Unit
from .models import Indicator, Objective

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _period_order(form: forms.Form) -> None:
    start, end = form.cleaned_data.get("period_start"), form.cleaned_data.get("period_end")
    if start and end and end < start:
        form.add_error("period_end", _("The period cannot end before it starts."))


class PlanForm(StyledFormMixin, forms.Form):
    organization = forms.ModelChoiceField(label=_("Organisation"), queryset=Organization.objects.none())
    code = forms.SlugField(label=_("Code"), max_length=60, help_text=_("Letters, digits and dashes, e.g. plan-2030."))
    name_ar = forms.CharField(label=_("Name (Arabic)"), max_length=300, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=300, required=False)
    period_start = forms.DateField(label=_("Period start"), widget=DATE)
    period_end = forms.DateField(label=_("Period end"), widget=DATE)

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["name_ar"].widget.attrs["dir"] = "rtl"
        self.fields["name_en"].widget.attrs["dir"] = "ltr"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("name_ar") and not cleaned.get("name_en"):
            self.add_error("name_ar", _("Give the plan a name in Arabic or in English."))
        _period_order(self)
        return cleaned


class NewVersionForm(StyledFormMixin, forms.Form):
    note = forms.CharField(
        label=_("What will change"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class VersionForm(StyledFormMixin, forms.Form):
    period_start = forms.DateField(label=_("Period start"), widget=DATE)
    period_end = forms.DateField(label=_("Period end"), widget=DATE)
    note = forms.CharField(
        label=_("What changed"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        _period_order(self)
        return cleaned


class ObjectiveForm(StyledFormMixin, forms.Form):
    parent = forms.ModelChoiceField(label=_("Part of"), queryset=Objective.objects.none(), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=ObjectiveKind.choices, initial=ObjectiveKind.OBJECTIVE)
    code = forms.CharField(label=_("Code"), max_length=30)
    title_ar = forms.CharField(label=_("Title (Arabic)"), max_length=300, required=False)
    title_en = forms.CharField(label=_("Title (English)"), max_length=300, required=False)
    description_ar = forms.CharField(
        label=_("Description (Arabic)"), required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "rtl"})
    )
    description_en = forms.CharField(
        label=_("Description (English)"), required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"})
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=100000, initial=0)
    sdg_goal = forms.IntegerField(
        label=_("Sustainable Development Goal"),
        min_value=1,
        max_value=17,
        required=False,
        help_text=_("1 to 17, when the objective serves one."),
    )
    maps_to = forms.ModelChoiceField(
        label=_("Serves the ministry's objective"), queryset=Objective.objects.none(), required=False
    )

    def __init__(self, *args, parents, ministry_objectives, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents
        self.fields["maps_to"].queryset = ministry_objectives
        self.fields["title_ar"].widget.attrs["dir"] = "rtl"
        self.fields["title_en"].widget.attrs["dir"] = "ltr"

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("title_ar") and not cleaned.get("title_en"):
            self.add_error("title_ar", _("Give the objective a title in Arabic or in English."))
        return cleaned


class IndicatorForm(StyledFormMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name_ar = forms.CharField(label=_("Name (Arabic)"), max_length=300, required=False)
    name_en = forms.CharField(label=_("Name (English)"), max_length=300, required=False)
    definition_ar = forms.CharField(
        label=_("Definition (Arabic)"), required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "rtl"})
    )
    definition_en = forms.CharField(
        label=_("Definition (English)"), required=False, widget=forms.Textarea(attrs={"rows": 3, "dir": "ltr"})
    )
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, initial=Direction.INCREASE)
    aggregation = forms.ChoiceField(
        label=_("Roll-up rule"),
        choices=Aggregation.choices,
        initial=Aggregation.SUM,
        help_text=_("How the values of a period and of the contributing indicators are combined."),
    )
    baseline = forms.CharField(label=_("Baseline"), max_length=40, required=False)
    baseline_date = forms.DateField(label=_("Baseline date"), required=False, widget=DATE)
    feeds = forms.ModelChoiceField(
        label=_("Feeds the indicator"),
        queryset=Indicator.objects.none(),
        required=False,
        help_text=_("Its values roll up into this indicator, which must have the same unit."),
    )

    def __init__(self, *args, feeds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feeds"].queryset = feeds
        self.fields["feeds"].label_from_instance = _feeds_label
        self.fields["name_ar"].widget.attrs["dir"] = "rtl"
        self.fields["name_en"].widget.attrs["dir"] = "ltr"
        self.fields["baseline"].widget.attrs.update({"dir": "ltr", "inputmode": "decimal"})

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("name_ar") and not cleaned.get("name_en"):
            self.add_error("name_ar", _("Give the indicator a name in Arabic or in English."))
        text = (cleaned.get("baseline") or "").strip()
        cleaned["baseline_milli"] = None
        if text and cleaned.get("unit"):
            try:
                cleaned["baseline_milli"] = values.parse_value(text, unit=cleaned["unit"])
            except ValidationError as error:
                self.add_error("baseline", error)
        if cleaned.get("baseline_date") and not text:
            self.add_error("baseline", _("Give the baseline's value with its date."))
        return cleaned

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("baseline_milli", None)
        data["baseline"] = (data.get("baseline") or "").strip()
        return data


def _feeds_label(indicator: Indicator) -> str:
    return f"{indicator.code} {indicator.name()} ({indicator.get_unit_display()})"


class TargetForm(StyledFormMixin, forms.Form):
    period_start = forms.DateField(label=_("Period start"), widget=DATE)
    period_end = forms.DateField(label=_("Period end"), widget=DATE)
    value = forms.CharField(label=_("Target"), max_length=40)

    def __init__(self, *args, unit: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit = unit
        self.fields["value"].widget.attrs.update({"dir": "ltr", "inputmode": "decimal"})

    def clean_value(self):
        text = self.cleaned_data["value"].strip()
        values.parse_value(text, unit=self.unit)  # raises ValidationError: a field error
        return text

    def clean(self):
        cleaned = super().clean()
        _period_order(self)
        return cleaned


class ProjectObjectivesForm(StyledFormMixin, forms.Form):
    objectives = forms.ModelMultipleChoiceField(
        label=_("Strategic objectives"),
        queryset=Objective.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("The objectives of the ministry's plan and of the charity's plan in force that it serves."),
    )

    def __init__(self, *args, objectives, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["objectives"].queryset = objectives
        self.fields["objectives"].label_from_instance = _objective_label


def _objective_label(objective: Objective) -> str:
    return f"{objective.version.plan.name()} — {objective.code} {objective.title()}"


def indicator_value_fields(form: forms.Form, indicators, documents, *, initial_values=None, initial_evidence=None):
    """Adds to a progress report's form one value field (with the unit) and one evidence field per project
    indicator: `indicator_<pk>` and `indicator_<pk>_evidence`."""
    initial_values = initial_values or {}
    initial_evidence = initial_evidence or {}
    for indicator in indicators:
        name = f"indicator_{indicator.pk}"
        form.fields[name] = forms.CharField(
            label=f"{indicator.code} {indicator.name()}",
            required=False,
            max_length=40,
            initial=initial_values.get(indicator.code, ""),
            help_text=indicator.get_unit_display(),
            widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "class": "form-control"}),
        )
        form.fields[name].indicator = indicator
        form.fields[f"{name}_evidence"] = forms.ModelMultipleChoiceField(
            label=_("Evidence"),
            queryset=documents,
            required=False,
            initial=initial_evidence.get(indicator.code, []),
            widget=forms.CheckboxSelectMultiple,
        )


def clean_indicator_values(form: forms.Form) -> tuple[dict[str, str], dict[str, list]]:
    """The report form's indicator fields as the reports service takes them: {code: text} and {code: [documents]}.
    A value that is not a number in the indicator's unit is a field error naming the indicator."""
    found: dict[str, str] = {}
    evidence: dict[str, list] = {}
    for name, field in form.fields.items():
        indicator = getattr(field, "indicator", None)
        if indicator is None or name not in form.cleaned_data:
            continue
        text = (form.cleaned_data.get(name) or "").strip()
        documents = list(form.cleaned_data.get(f"{name}_evidence") or [])
        if not text:
            if documents:
                form.add_error(name, _("Give the value that this evidence supports."))
            continue
        try:
            values.parse_value(text, unit=indicator.unit)
        except ValidationError as error:
            for message in error.messages:
                form.add_error(name, f"{indicator.code}: {message}")
            continue
        found[indicator.code] = text
        evidence[indicator.code] = documents
    return found, evidence


def place_indicator_errors(form: forms.Form, messages: list[str]) -> None:
    """A service's refusal of the indicator values: on the field of the indicator its message names."""
    fields = {field.indicator.code: name for name, field in form.fields.items() if hasattr(field, "indicator")}
    for message in messages:
        target = next((name for code, name in fields.items() if code in str(message)), None)
        form.add_error(target, message)
