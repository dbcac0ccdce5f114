"""The ministry's forms of coordination: the decision on an overlap flag and the coordination settings. The
services check every rule again; the forms give the same errors on their fields first."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

from shafaf.core.forms import StyledFormMixin
from shafaf.core.money import MoneyError, parse_money

from .choices import Decision

REASON_MAX_LENGTH = 5000
WHOLE = 10_000  # basis points in 100 %
JOINT_CURRENCY = "KWD"
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩٫٬", "0123456789.,")


def percent_text(bp: int | None) -> str:
    """Basis points as a plain percentage: 6000 → "60", 3350 → "33.5", 1 → "0.01"."""
    if bp is None:
        return ""
    return format(Decimal(bp).scaleb(-2).normalize(), "f")


def parse_share(text: str) -> int:
    """A share typed as a percentage ("60", "33.5", "٦٠٫٥", "60 %") in basis points; ValueError with the message
    to show when it is not a number, not between 0 and 100, or more precise than a basis point."""
    cleaned = str(text or "").translate(_DIGITS).replace("%", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(_("Enter a percentage, such as 60 or 33.5.")) from None
    if not value.is_finite():
        raise ValueError(_("Enter a percentage, such as 60 or 33.5."))
    scaled = value.scaleb(2)
    if scaled != scaled.to_integral_value():
        raise ValueError(_("At most two decimals (a basis point)."))
    bp = int(scaled)
    if bp <= 0 or bp >= WHOLE:
        raise ValueError(_("Each share is more than 0 % and less than 100 %."))
    return bp


class DecisionForm(StyledFormMixin, forms.Form):
    """The ministry's decision on an overlap between two projects of different charities."""

    decision = forms.ChoiceField(label=_("Decision"), choices=Decision.choices, widget=forms.RadioSelect)
    duplicate_project = forms.TypedChoiceField(
        label=_("The duplicate (rejected or withdrawn)"),
        coerce=int,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("For a duplicate: the project that does not go ahead."),
    )
    share_a = forms.CharField(
        label=_("First project's share (%)"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off"}),
    )
    share_b = forms.CharField(
        label=_("Second project's share (%)"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("For joint funding: the two shares add up to 100 %."),
    )
    joint_total = forms.CharField(
        label=_("Total cost of the joint work (KWD)"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"dir": "ltr", "inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("In dinars, with up to three decimals: 25000.500."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_("Required for a duplicate and for distinct projects: both charities read it."),
    )

    def __init__(self, *args, flag, **kwargs):
        kwargs.setdefault("prefix", "decide")
        super().__init__(*args, **kwargs)
        self.flag = flag
        self.fields["duplicate_project"].choices = [
            (project.pk, f"{project.reference} — {project.title()}") for project in (flag.project_a, flag.project_b)
        ]
        self.fields["share_a"].label = _("Share of %(reference)s (%%)") % {"reference": flag.project_a.reference}
        self.fields["share_b"].label = _("Share of %(reference)s (%%)") % {"reference": flag.project_b.reference}

    @property
    def joint_fields(self) -> list:
        return [self["share_a"], self["share_b"], self["joint_total"]]

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        reason = (data.get("reason") or "").strip()
        data["reason"] = reason
        if decision in (Decision.DUPLICATE, Decision.DISTINCT) and not reason:
            self.add_error("reason", _("Say why: both charities read the reason."))
        if decision == Decision.DUPLICATE and not data.get("duplicate_project"):
            self.add_error("duplicate_project", _("Choose the project that is the duplicate."))
        if decision == Decision.JOINT:
            self._clean_joint(data)
        return data

    def _clean_joint(self, data) -> None:
        shares = {}
        for name in ("share_a", "share_b"):
            text = (data.get(name) or "").strip()
            if not text:
                self.add_error(name, _("Give this project's share of the joint work."))
                continue
            try:
                shares[name] = parse_share(text)
            except ValueError as error:
                self.add_error(name, str(error.args[0]))
        if len(shares) == 2 and shares["share_a"] + shares["share_b"] != WHOLE:
            total = percent_text(shares["share_a"] + shares["share_b"])
            self.add_error(
                "share_b", _("The two shares must add up to 100 %% (they add up to %(total)s %%).") % {"total": total}
            )
        data["share_a_bp"] = shares.get("share_a")
        data["share_b_bp"] = shares.get("share_b")
        text = (data.get("joint_total") or "").strip()
        data["joint_total_minor"] = None
        if not text:
            self.add_error("joint_total", _("Give the total cost of the joint work, in dinars."))
            return
        try:
            money = parse_money(text, JOINT_CURRENCY)
        except MoneyError as error:
            self.add_error("joint_total", error.message)
            return
        if not money.is_positive():
            self.add_error("joint_total", _("The amount must be more than zero."))
            return
        data["joint_total_minor"] = money.minor

    def service_arguments(self) -> dict:
        """The keyword arguments of services.flag_decide for what was chosen (valid forms only)."""
        data = self.cleaned_data
        decision = data["decision"]
        arguments = {"decision": decision, "reason": data["reason"]}
        if decision == Decision.DUPLICATE:
            chosen = data["duplicate_project"]
            arguments["duplicate_project"] = next(
                project for project in (self.flag.project_a, self.flag.project_b) if project.pk == chosen
            )
        elif decision == Decision.JOINT:
            arguments.update(
                share_a_bp=data["share_a_bp"],
                share_b_bp=data["share_b_bp"],
                joint_total=data["joint_total_minor"],
                joint_currency=JOINT_CURRENCY,
            )
        return arguments


# A service's refusal names its own arguments; they show on these fields of the form.
DECISION_FIELDS = {"share_a_bp": "share_a", "share_b_bp": "share_b", "joint_currency": "joint_total"}


class CoordinationSettingsForm(StyledFormMixin, forms.Form):
    likely_threshold = forms.DecimalField(
        label=_("Likely duplicate at or above (score)"),
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("-99"),
        max_value=Decimal("99"),
        widget=forms.NumberInput(attrs={"dir": "ltr", "step": "0.1"}),
        help_text=_("The score is the model's weight of evidence (log2 of the odds that two projects are one)."),
    )
    possible_threshold = forms.DecimalField(
        label=_("Possible overlap at or above (score)"),
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("-99"),
        max_value=Decimal("99"),
        widget=forms.NumberInput(attrs={"dir": "ltr", "step": "0.1"}),
        help_text=_("Not above the likely duplicate threshold."),
    )
    completed_within_days = forms.IntegerField(
        label=_("Compare completed projects for (days)"),
        min_value=0,
        max_value=3650,
        widget=forms.NumberInput(attrs={"dir": "ltr"}),
        help_text=_("A completed project is still compared for this many days after it was completed."),
    )
    max_candidates = forms.IntegerField(
        label=_("Candidates scored per check"),
        min_value=1,
        max_value=5000,
        widget=forms.NumberInput(attrs={"dir": "ltr"}),
        help_text=_("The most promising projects scored by each online check."),
    )

    FIELDS = ("likely_threshold", "possible_threshold", "completed_within_days", "max_candidates")

    @classmethod
    def initial_from(cls, row) -> dict:
        return {name: getattr(row, name) for name in cls.FIELDS}

    def clean(self):
        data = super().clean()
        likely, possible = data.get("likely_threshold"), data.get("possible_threshold")
        if likely is not None and possible is not None and possible > likely:
            self.add_error(
                "possible_threshold", _("The possible overlap threshold cannot be above the likely duplicate one.")
            )
        return data
