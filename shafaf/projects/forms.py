from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.models import Organization
from shafaf.core.forms import StyledFormMixin

from .choices import EVIDENCE_KINDS, DocumentKind
from .codelists import COUNTRIES, CURRENCIES, SECTORS
from .models import Project, ProjectDocument, ProjectLocation, ProjectPhase

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(StyledFormMixin, forms.ModelForm):
    sector = forms.ChoiceField(label=_("DAC sector"))
    country = forms.ChoiceField(label=_("Recipient country"))
    currency = forms.ChoiceField(label=_("Currency"), initial="KWD")

    class Meta:
        model = Project
        fields = [
            "charity",
            "title_ar",
            "title_en",
            "description_ar",
            "description_en",
            "project_model",
            "sector",
            "country",
            "beneficiary_group",
            "beneficiary_count",
            "planned_start",
            "planned_end",
            "currency",
            "implementing_partner",
        ]
        widgets = {
            "title_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "title_en": forms.TextInput(attrs={"dir": "ltr", "lang": "en"}),
            "description_ar": forms.Textarea(attrs={"dir": "rtl", "lang": "ar", "rows": 4}),
            "description_en": forms.Textarea(attrs={"dir": "ltr", "lang": "en", "rows": 4}),
            "planned_start": DATE,
            "planned_end": DATE,
        }

    def __init__(self, *args, charities=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sector"].choices = [("", "—"), *SECTORS.choices()]
        self.fields["country"].choices = [("", "—"), *COUNTRIES.choices()]
        self.fields["currency"].choices = CURRENCIES.choices()
        self.fields["implementing_partner"].queryset = Organization.objects.filter(
            kind="partner", is_active=True
        ).order_by("name_en")
        if self.instance.pk or charities is None:
            del self.fields["charity"]
        else:
            self.fields["charity"].queryset = charities
            if charities.count() == 1:
                self.fields["charity"].initial = charities.first()
                self.fields["charity"].widget = forms.HiddenInput()


class LocationForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ProjectLocation
        fields = ["admin_area_ar", "admin_area_en", "latitude", "longitude"]
        widgets = {
            "admin_area_ar": forms.TextInput(attrs={"dir": "rtl"}),
            "admin_area_en": forms.TextInput(attrs={"dir": "ltr"}),
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "dir": "ltr"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "dir": "ltr"}),
        }


LocationFormSet = forms.formset_factory(LocationForm, extra=1, can_delete=True, max_num=50, validate_max=True)


class TransitionForm(StyledFormMixin, forms.Form):
    """The reason given with a workflow action. Where the workflow requires one, the browser asks for it
    (`required`) and the service enforces it (after checking the user may take the action at all)."""

    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )

    def __init__(self, *args, action: str, **kwargs):
        kwargs.setdefault("prefix", action)
        super().__init__(*args, **kwargs)
        self.action = action
        from .workflow import BY_ACTION

        self.reason_required = BY_ACTION[action].reason_required
        if self.reason_required:
            self.fields["reason"].widget.attrs["required"] = True


class PhaseForm(StyledFormMixin, forms.ModelForm):
    """A new phase or milestone of a project (its plan); the service checks its dates against the project's."""

    class Meta:
        model = ProjectPhase
        fields = ["name_ar", "name_en", "planned_start", "planned_end", "weight", "is_milestone"]
        widgets = {
            "name_ar": forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
            "name_en": forms.TextInput(attrs={"dir": "ltr", "lang": "en"}),
            "planned_start": DATE,
            "planned_end": DATE,
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "phase")
        super().__init__(*args, **kwargs)

    def _post_clean(self):
        pass  # the service validates the phase (with its project), and says what is wrong per field


class PhaseProgressForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ProjectPhase
        fields = ["percent_complete", "status"]
        widgets = {"percent_complete": forms.NumberInput(attrs={"min": 0, "max": 100, "dir": "ltr"})}

    def _post_clean(self):
        pass


class DocumentForm(StyledFormMixin, forms.ModelForm):
    """A document or a piece of evidence (multipart). The partner's reporter chooses among evidence kinds."""

    class Meta:
        model = ProjectDocument
        fields = ["kind", "title", "phase", "file", "taken_on", "place", "latitude", "longitude"]
        widgets = {
            "title": forms.TextInput(attrs={"dir": "auto"}),
            "place": forms.TextInput(attrs={"dir": "auto"}),
            "taken_on": DATE,
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "dir": "ltr"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "dir": "ltr"}),
            "file": forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp,.docx,.xlsx"}),
        }

    def __init__(self, *args, project, evidence_only: bool = False, **kwargs):
        kwargs.setdefault("prefix", "document")
        super().__init__(*args, **kwargs)
        self.fields["phase"].queryset = project.phases.order_by("position", "id")
        if evidence_only:
            self.fields["kind"].choices = [(k.value, k.label) for k in DocumentKind if k in EVIDENCE_KINDS]

    def _post_clean(self):
        pass
