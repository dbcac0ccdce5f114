"""Forms and filters of the screening pages: the hits queue's filter (shared with the API), the decision form,
the list upload form."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.filters import IdFilter, StyledFilterSet
from shafaf.core.forms import StyledFormMixin

from .choices import HitStatus, SanctionsSource
from .models import SanctionsListVersion, ScreeningHit
from .sanctions import MAX_UPLOAD_BYTES
from .screening import DECISION_REASON_MAX_LENGTH


class HitFilter(StyledFilterSet):
    """The hits queue: by status, list, partner and list version (pages and /api/v1/screening-hits/)."""

    status = django_filters.ChoiceFilter(choices=HitStatus.choices, label=_("status"))
    source = django_filters.ChoiceFilter(field_name="version__source", choices=SanctionsSource.choices, label=_("list"))
    partner = IdFilter(field_name="partner_id", label=_("partner"))
    version = IdFilter(field_name="version_id", label=_("list version"))

    class Meta:
        model = ScreeningHit
        fields = ["status", "source", "partner", "version"]


class VersionFilter(StyledFilterSet):
    source = django_filters.ChoiceFilter(choices=SanctionsSource.choices, label=_("list"))
    is_current = django_filters.BooleanFilter(label=_("current"))

    class Meta:
        model = SanctionsListVersion
        fields = ["source", "is_current"]


class DecisionForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=DECISION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_("Required to clear a hit: why the partner or officer is not the listed one."),
    )


def _limited(upload):
    if upload is not None and upload.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            _("The file is too large (at most %(size)s MB).") % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    return upload


class UploadForm(StyledFormMixin, forms.Form):
    source = forms.ChoiceField(label=_("List"), choices=SanctionsSource.choices)
    un_file = forms.FileField(
        label=_("UN consolidated list (XML)"),
        required=False,
        help_text=_("The XML file of the UN Security Council Consolidated List."),
    )
    sdn_file = forms.FileField(label=_("OFAC SDN file (sdn.csv)"), required=False)
    alt_file = forms.FileField(label=_("OFAC alternate names (alt.csv)"), required=False)
    add_file = forms.FileField(label=_("OFAC addresses (add.csv)"), required=False)
    comments_file = forms.FileField(label=_("OFAC remarks continued (sdn_comments.csv, optional)"), required=False)

    def clean_un_file(self):
        return _limited(self.cleaned_data.get("un_file"))

    def clean_sdn_file(self):
        return _limited(self.cleaned_data.get("sdn_file"))

    def clean_alt_file(self):
        return _limited(self.cleaned_data.get("alt_file"))

    def clean_add_file(self):
        return _limited(self.cleaned_data.get("add_file"))

    def clean_comments_file(self):
        return _limited(self.cleaned_data.get("comments_file"))

    def clean(self):
        data = super().clean()
        source = data.get("source")
        if source == SanctionsSource.UN and not data.get("un_file"):
            self.add_error("un_file", _("Choose the UN list's XML file."))
        if source == SanctionsSource.OFAC:
            for name in ("sdn_file", "alt_file", "add_file"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("The OFAC list needs this file."))
        return data

    def path_or_file(self):
        data = self.cleaned_data
        if data["source"] == SanctionsSource.UN:
            return data["un_file"]
        return {
            "sdn": data["sdn_file"],
            "alt": data["alt_file"],
            "add": data["add_file"],
            "comments": data.get("comments_file"),
        }
