"""The forms of the partner pages. They reject malformed input with field errors; the services check the
domain rules (and their refusals are put back on the form: shafaf.core.views.apply_domain_error)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import Authority
from shafaf.core.forms import StyledFormMixin
from shafaf.projects.choices import ProjectModel
from shafaf.projects.codelists import COUNTRIES

from .choices import OfficerRole, PartnerNameKind
from .services import REASON_MAX_LENGTH, agency_choices

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LTR = {"dir": "ltr"}
UPLOAD = forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp"})


def _countries(blank: bool = True):
    return ([("", "—")] if blank else []) + COUNTRIES.choices()


class PartnerForm(StyledFormMixin, forms.Form):
    name_ar = forms.CharField(
        label=_("Legal name (Arabic)"), max_length=300, widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"})
    )
    name_en = forms.CharField(
        label=_("Legal name (Latin script)"), max_length=300, widget=forms.TextInput(attrs={"dir": "ltr", "lang": "en"})
    )
    country = forms.ChoiceField(label=_("Country of registration"))
    registration_agency = forms.ChoiceField(
        label=_("Registration authority"),
        required=False,
        help_text=_("The register the partner is entered in (IATI organisation registration agency)."),
    )
    registration_number = forms.CharField(
        label=_("Registration number"), max_length=60, required=False, widget=forms.TextInput(attrs=LTR)
    )
    website = forms.URLField(
        label=_("Website"), required=False, max_length=200, assume_scheme="https", widget=forms.URLInput(attrs=LTR)
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _countries()
        self.fields["registration_agency"].choices = [("", "—"), *agency_choices()]


class AliasForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind of name"), choices=PartnerNameKind.choices)
    name = forms.CharField(label=_("Name"), max_length=300, widget=forms.TextInput(attrs={"dir": "auto"}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "alias")
        super().__init__(*args, **kwargs)


class AddressForm(StyledFormMixin, forms.Form):
    line = forms.CharField(label=_("Address"), max_length=300, widget=forms.TextInput(attrs={"dir": "auto"}))
    city = forms.CharField(
        label=_("City"), max_length=120, required=False, widget=forms.TextInput(attrs={"dir": "auto"})
    )
    country = forms.ChoiceField(label=_("Country"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "address")
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = _countries()


class OfficerForm(StyledFormMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=OfficerRole.choices)
    name_ar = forms.CharField(
        label=_("Name (Arabic)"), max_length=200, required=False, widget=forms.TextInput(attrs={"dir": "rtl"})
    )
    name_en = forms.CharField(
        label=_("Name (Latin script)"), max_length=200, required=False, widget=forms.TextInput(attrs=LTR)
    )
    nationality = forms.ChoiceField(label=_("Nationality"), required=False)
    date_of_birth = forms.DateField(label=_("Date of birth"), required=False, widget=DATE)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "officer")
        super().__init__(*args, **kwargs)
        self.fields["nationality"].choices = _countries()

    def clean(self):
        data = super().clean()
        if not (data.get("name_ar") or "").strip() and not (data.get("name_en") or "").strip():
            self.add_error("name_en", _("Give the officer's name in Arabic, Latin script or both."))
        return data


class AccreditationForm(StyledFormMixin, forms.Form):
    authority = forms.ChoiceField(label=_("Ministry"), choices=Authority.choices)
    number = forms.CharField(label=_("Accreditation number"), max_length=60, widget=forms.TextInput(attrs=LTR))
    valid_from = forms.DateField(label=_("Valid from"), widget=DATE)
    valid_until = forms.DateField(label=_("Valid until"), widget=DATE)
    countries = forms.MultipleChoiceField(
        label=_("Countries covered"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("None chosen: every country."),
    )
    project_models = forms.MultipleChoiceField(
        label=_("Project models covered"),
        required=False,
        choices=ProjectModel.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every project model."),
    )
    document = forms.FileField(label=_("Accreditation document (PDF or image)"), required=False, widget=UPLOAD)
    document_title = forms.CharField(label=_("Document title"), max_length=300, required=False)

    def __init__(self, *args, authorities=None, **kwargs):
        kwargs.setdefault("prefix", "accreditation")
        super().__init__(*args, **kwargs)
        self.fields["countries"].choices = _countries(blank=False)
        if authorities is not None:
            self.fields["authority"].choices = [(a.value, a.label) for a in Authority if a.value in authorities]
            if len(authorities) == 1:
                self.fields["authority"].initial = next(iter(authorities))

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("The accreditation cannot end before it starts."))
        return data


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"})
    )


class SuspendForm(ReasonForm):
    suspended_on = forms.DateField(label=_("Suspended from"), required=False, widget=DATE)
    settlement_deadline = forms.DateField(
        label=_("Settlement deadline"),
        required=False,
        widget=DATE,
        help_text=_("Until this date, transfers that settle contracts signed before the suspension stay allowed."),
    )


class SettlementDeadlineForm(StyledFormMixin, forms.Form):
    settlement_deadline = forms.DateField(label=_("Settlement deadline"), widget=DATE)


class DocumentForm(StyledFormMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300, required=False)
    file = forms.FileField(label=_("File (PDF or image)"), widget=UPLOAD)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "document")
        super().__init__(*args, **kwargs)


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
        help_text=_(
            "UTF-8 CSV (with or without a byte order mark) or an Excel workbook (.xlsx); the first row names the "
            "columns."
        ),
    )
