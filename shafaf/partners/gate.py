"""The accreditation gate: whether the platform may deal with a foreign partner on a date, for a country and a
project model. Every place that must refuse calls `partner_gate` (project submission and approval, contract
registration, disbursements); pages and reports read `partner_gate_status`. The refusal names what is
missing (which ministry's accreditation, and why) or the screening hit, in Arabic and English.

A partner is accredited on a date for a country and a model only when both ministries (MoFA and MOSA) hold an
accreditation of it that is active, valid on that date and covers both. A suspended accreditation is not
accredited; for transfers it allows only the settlement of contracts signed before the suspension, with the
contract uploaded, until the ministry's deadline (`settlement_allows`). A partner with an open or confirmed
screening hit is blocked whatever its accreditations say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import Authority
from shafaf.core.exceptions import DomainError

from .choices import BLOCKING_HIT_STATUSES, AccreditationStatus

AUTHORITIES = (Authority.MOFA, Authority.MOSA)
AUTHORITY_NAMES = {
    Authority.MOFA: ("وزارة الخارجية", "the Ministry of Foreign Affairs"),
    Authority.MOSA: ("وزارة الشؤون الاجتماعية", "the Ministry of Social Affairs"),
}


@dataclass
class Problem:
    code: str  # missing_accreditation | not_yet_valid | lapsed | out_of_scope | suspended | revoked | screening_hit
    authority: str
    message_ar: str
    message_en: str


@dataclass
class GateStatus:
    """What the gate says about a partner on a date. `accredited`: both ministries' accreditations are active,
    valid and in scope; `suspended`: at least one is suspended (and none is missing otherwise);
    `screening_blocked`: an open or confirmed hit stands."""

    accredited: bool
    suspended: bool
    screening_blocked: bool
    problems: list[Problem] = field(default_factory=list)
    suspensions: list = field(default_factory=list)  # the suspended Accreditation rows
    facts: dict = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.accredited and not self.screening_blocked

    @property
    def reason_ar(self) -> str:
        return " ".join(problem.message_ar for problem in self.problems)

    @property
    def reason_en(self) -> str:
        return " ".join(problem.message_en for problem in self.problems)

    def messages(self, language: str | None = None) -> list[str]:
        from django.utils.translation import get_language

        english = (language or get_language() or "ar").startswith("en")
        return [problem.message_en if english else problem.message_ar for problem in self.problems]


def _accreditation_problem(authority: str, rows: list, on_date: dt.date, country, project_model) -> Problem | None:
    """None when one of `rows` (this authority's accreditations of the partner) is active, valid on the date
    and in scope; otherwise the most telling reason why not."""
    ar, en = AUTHORITY_NAMES[authority]
    if any(
        row.status == AccreditationStatus.ACTIVE and row.valid_on(on_date) and row.covers(country, project_model)
        for row in rows
    ):
        return None
    on = on_date.isoformat()
    relevant = [row for row in rows if row.valid_on(on_date) and row.covers(country, project_model)]
    for status, code in ((AccreditationStatus.SUSPENDED, "suspended"), (AccreditationStatus.REVOKED, "revoked")):
        row = next((row for row in relevant if row.status == status), None)
        if row is not None:
            verb_ar = "موقوف" if code == "suspended" else "ملغى"
            verb_en = "suspended" if code == "suspended" else "revoked"
            extra_en = f" ({row.status_reason})" if row.status_reason else ""
            return Problem(
                code,
                authority,
                f"اعتماد {ar} رقم {row.number} {verb_ar}{extra_en}.",
                f"The accreditation by {en} (number {row.number}) is {verb_en}{extra_en}.",
            )
    in_scope = [row for row in rows if row.covers(country, project_model)]
    if any(row.valid_until < on_date for row in in_scope) and not any(row.valid_from > on_date for row in in_scope):
        row = max(in_scope, key=lambda row: row.valid_until)
        return Problem(
            "lapsed",
            authority,
            f"انتهى اعتماد {ar} رقم {row.number} في {row.valid_until.isoformat()}.",
            f"The accreditation by {en} (number {row.number}) lapsed on {row.valid_until.isoformat()}.",
        )
    if any(row.valid_from > on_date for row in in_scope):
        row = min((row for row in in_scope if row.valid_from > on_date), key=lambda row: row.valid_from)
        return Problem(
            "not_yet_valid",
            authority,
            f"اعتماد {ar} رقم {row.number} لا يسري قبل {row.valid_from.isoformat()}.",
            f"The accreditation by {en} (number {row.number}) is not valid before {row.valid_from.isoformat()}.",
        )
    if rows:
        scope_ar = " ونموذج المشروع" if project_model else ""
        scope_en = " and project model" if project_model else ""
        return Problem(
            "out_of_scope",
            authority,
            f"اعتماد {ar} لا يشمل هذه الدولة ({country or '—'}){scope_ar} في {on}.",
            f"The accreditation by {en} does not cover this country ({country or '—'}){scope_en} on {on}.",
        )
    return Problem(
        "missing_accreditation",
        authority,
        f"لا يوجد اعتماد للشريك من {ar}.",
        f"The partner holds no accreditation by {en}.",
    )


def blocking_hits(partner):
    """The partner's open or confirmed screening hits (on itself or one of its officers)."""
    from .models import ScreeningHit

    return (
        ScreeningHit.objects.filter(partner=partner, status__in=BLOCKING_HIT_STATUSES)
        .select_related("entry", "version", "officer")
        .order_by("-score", "pk")
    )


def partner_gate_status(partner, *, on_date: dt.date, country: str | None = None, project_model: str | None = None):
    """The gate's answer for `partner` on `on_date` (see the module's docstring); two queries."""
    from .models import Accreditation

    rows = list(Accreditation.objects.filter(partner=partner).order_by("pk"))
    by_authority = {authority: [row for row in rows if row.authority == authority] for authority in AUTHORITIES}
    problems = []
    for authority in AUTHORITIES:
        problem = _accreditation_problem(authority, by_authority[authority], on_date, country, project_model)
        if problem is not None:
            problems.append(problem)
    suspended = bool(problems) and all(problem.code == "suspended" for problem in problems)
    suspensions = [
        row
        for row in rows
        if row.status == AccreditationStatus.SUSPENDED and row.valid_on(on_date) and row.covers(country, project_model)
    ]
    hits = list(blocking_hits(partner)[:5])
    for hit in hits:
        who_en = f"officer {hit.officer}" if hit.officer_id else "the partner"
        who_ar = f"المسؤول {hit.officer}" if hit.officer_id else "الشريك"
        state_en = "confirmed" if hit.status == "confirmed" else "open, awaiting a reviewer's decision"
        state_ar = "مؤكَّد" if hit.status == "confirmed" else "مفتوح بانتظار قرار المراجع"
        problems.append(
            Problem(
                "screening_hit",
                hit.version.source,
                f"تطابق في قوائم العقوبات ({state_ar}): {who_ar} «{hit.query}» مع {hit.entry.entry_id} "
                f"«{hit.matched_name}» في {hit.version.get_source_display()}.",
                f"Sanctions screening hit ({state_en}): {who_en} “{hit.query}” matches {hit.entry.entry_id} "
                f"“{hit.matched_name}” on the {hit.version.get_source_display()}.",
            )
        )
    accredited = not any(problem.code != "screening_hit" for problem in problems)
    return GateStatus(
        accredited=accredited,
        suspended=suspended,
        screening_blocked=bool(hits),
        problems=problems,
        suspensions=suspensions,
        facts={
            "on_date": on_date.isoformat(),
            "country": country or "",
            "project_model": project_model or "",
            "problems": [problem.code for problem in problems],
            "hits": [hit.pk for hit in hits],
        },
    )


def partner_accreditation_status(partner, on_date, country, project_model) -> dict:
    """The rulebook's interface (shafaf.projects.rulebook.checks.external_partner_known)."""
    status = partner_gate_status(partner, on_date=on_date, country=country, project_model=project_model)
    return {
        "accredited": status.accredited and not status.screening_blocked,
        "suspended": status.suspended,
        "reason_ar": status.reason_ar,
        "reason_en": status.reason_en,
        "facts": status.facts,
    }


class PartnerRefused(DomainError):
    """The gate refused to deal with the partner (HTTP 409 with the reasons in `fields["partner"]`)."""

    status = 409


def partner_gate(partner, *, on_date: dt.date, country=None, project_model=None) -> GateStatus:
    """Raises PartnerRefused naming every missing accreditation and every hit unless the partner is accredited
    and not blocked by screening on `on_date`; returns the status otherwise."""
    status = partner_gate_status(partner, on_date=on_date, country=country, project_model=project_model)
    if not status.allowed:
        raise refusal(status, partner=partner)
    return status


def refusal(status: GateStatus, *, partner) -> PartnerRefused:
    code = "partner_screening_hit" if status.accredited else "partner_not_accredited"
    message = (
        _("The platform cannot deal with this partner (%(partner)s): a sanctions screening hit stands.")
        if status.accredited
        else _("The platform cannot deal with this partner (%(partner)s): it is not accredited by both ministries.")
    )
    return PartnerRefused(
        message % {"partner": partner},
        code=code,
        fields={"partner": status.messages()},
    )
