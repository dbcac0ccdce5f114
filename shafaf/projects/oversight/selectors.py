"""Every read of alerts and compliance classes, already filtered to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import Count, OuterRef, Q, Subquery
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from shafaf.accounts.choices import Authority, OrganizationKind
from shafaf.accounts.models import Organization
from shafaf.accounts.permissions import has_oversight, is_ministry
from shafaf.core.ids import pk_or_404

from .models import UNRESOLVED_STATUSES, Alert, AlertStatus
from .permissions import can_view_alerts, can_view_compliance, own_charity_ids
from .rules import ACTIVE_STATUSES


def ministry_organization() -> Organization | None:
    """The ministry that owns the ministry's alerts (the MOSA authority), or None when it is not set up."""
    return Organization.objects.filter(kind=OrganizationKind.AUTHORITY, authority_code=Authority.MOSA).first()


def alerts_visible_to(user, queryset=None):
    """The ministry and auditors see every alert; a charity's members see the alerts of its projects."""
    queryset = Alert.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if has_oversight(user):
        return queryset
    return queryset.filter(project__charity_id__in=own_charity_ids(user))


def alert_list(user, *, status: str | None = None):
    """The alerts the user may see, newest first; `status` one of AlertStatus, "all", or None (unresolved)."""
    queryset = alerts_visible_to(user).select_related("project", "owner", "acknowledged_by")
    if status in AlertStatus.values:
        queryset = queryset.filter(status=status)
    elif status != "all":
        queryset = queryset.filter(status__in=UNRESOLVED_STATUSES)
    return queryset.order_by("-raised_at", "-id")


def alert_get(user, pk) -> Alert:
    """The alert, or Http404 when it does not exist or the user may not see it."""
    pk = pk_or_404(pk)
    alert = alerts_visible_to(user).select_related("project", "owner").filter(pk=pk).first()
    if alert is None:
        raise Http404
    return alert


def home_alerts(user) -> dict:
    """The home page's card: the open alerts the user's organisation must act on (a charity member: its
    charities'; the ministry: the ministry's, with the count of every open alert)."""
    if not can_view_alerts(user):
        return {}
    open_alerts = alerts_visible_to(user).filter(status=AlertStatus.OPEN)
    if is_ministry(user):
        mine = open_alerts.filter(owner__kind=OrganizationKind.AUTHORITY)
        counts = open_alerts.aggregate(
            all=Count("id"), mine=Count("id", filter=Q(owner__kind=OrganizationKind.AUTHORITY))
        )
        return {
            "alerts_card": True,
            "alerts_head": list(mine.select_related("project").order_by("-raised_at", "-id")[:5]),
            "alerts_own_count": counts["mine"],
            "alerts_all_count": counts["all"],
            "alerts_show_all": True,
        }
    if has_oversight(user):  # the auditor reads alerts on their page; none of them is its to act on
        return {}
    own = own_charity_ids(user)
    mine = open_alerts.filter(owner_id__in=own)
    head = list(mine.select_related("project").order_by("-raised_at", "-id")[:5])
    return {
        "alerts_card": True,
        "alerts_head": head,
        "alerts_own_count": len(head) if len(head) < 5 else mine.count(),
        "compliance_rows": compliance_for(Organization.objects.filter(pk__in=own).order_by("name_en", "pk")),
    }


# --- compliance classes -------------------------------------------------------------------------------------


class ComplianceClass:
    COMMITTED = "committed"
    PARTIAL = "partially_compliant"
    NON_COMPLIANT = "non_compliant"

    LABELS = {
        COMMITTED: _("Committed"),
        PARTIAL: _("Partially compliant"),
        NON_COMPLIANT: _("Non-compliant"),
    }
    BADGES = {COMMITTED: "success", PARTIAL: "warning", NON_COMPLIANT: "danger"}
    values = (COMMITTED, PARTIAL, NON_COMPLIANT)


# The classes, from the latest rulebook run of each active (approved or in execution) project of the charity:
# - committed: no project with a blocking failure;
# - partially compliant: blocking failures in at most PARTIAL_MAX_SHARE of the checked projects;
# - non-compliant: in more.
# Projects the rulebook never checked count for neither side; they are listed among the reasons.
PARTIAL_MAX_SHARE = Fraction(1, 4)


@dataclass
class ProjectReason:
    project_id: int
    reference: str
    title_ar: str
    title_en: str
    failed_checks: list[dict] = field(default_factory=list)  # {"code", "message_ar", "message_en"}

    @property
    def title(self) -> str:
        if (get_language() or "ar").startswith("en"):
            return self.title_en or self.title_ar
        return self.title_ar or self.title_en


@dataclass
class Compliance:
    charity: Organization
    compliance_class: str
    active_projects: int
    checked_projects: int
    failing: list[ProjectReason]
    unchecked: list[ProjectReason]
    check_counts: dict[str, int]  # failed check code -> number of projects failing it

    @property
    def failing_projects(self) -> int:
        return len(self.failing)

    @property
    def share(self) -> float:
        return round(self.failing_projects / self.checked_projects, 4) if self.checked_projects else 0.0

    @property
    def label(self) -> str:
        return str(ComplianceClass.LABELS[self.compliance_class])

    @property
    def badge(self) -> str:
        return ComplianceClass.BADGES[self.compliance_class]


def classify(checked: int, failing: int) -> str:
    if failing == 0:
        return ComplianceClass.COMMITTED
    if Fraction(failing, checked) <= PARTIAL_MAX_SHARE:
        return ComplianceClass.PARTIAL
    return ComplianceClass.NON_COMPLIANT


def compliance_for(charities) -> list[Compliance]:
    """The compliance class of each charity with its reasons, in the order given (two queries in all)."""
    from shafaf.projects.models import Project
    from shafaf.projects.rulebook.models import CheckResultRecord, RulebookRun

    charities = list(charities)
    if not charities:
        return []
    latest = RulebookRun.objects.filter(project=OuterRef("pk")).order_by("-at", "-id").values("pk")[:1]
    projects = list(
        Project.objects.filter(charity__in=[c.pk for c in charities], status__in=ACTIVE_STATUSES)
        .annotate(latest_run=Subquery(latest))
        .order_by("reference")
        .values("pk", "reference", "title_ar", "title_en", "charity_id", "latest_run")
    )
    run_ids = [p["latest_run"] for p in projects if p["latest_run"]]
    failures: dict[int, list[dict]] = {}
    english = (get_language() or "ar").startswith("en")
    if run_ids:
        for row in (
            CheckResultRecord.objects.filter(run_id__in=run_ids, passed=False, severity="blocking")
            .order_by("position", "id")
            .values("run_id", "code", "message_ar", "message_en")
        ):
            row["message"] = row["message_en"] if english else row["message_ar"]
            failures.setdefault(row.pop("run_id"), []).append(row)
    by_charity: dict[int, list[dict]] = {}
    for project in projects:
        by_charity.setdefault(project["charity_id"], []).append(project)
    answer = []
    for charity in charities:
        failing, unchecked, counts, checked = [], [], {}, 0
        for project in by_charity.get(charity.pk, []):
            reason = ProjectReason(project["pk"], project["reference"], project["title_ar"], project["title_en"])
            if not project["latest_run"]:
                unchecked.append(reason)
                continue
            checked += 1
            reason.failed_checks = failures.get(project["latest_run"], [])
            if reason.failed_checks:
                failing.append(reason)
                for check in reason.failed_checks:
                    counts[check["code"]] = counts.get(check["code"], 0) + 1
        answer.append(
            Compliance(
                charity=charity,
                compliance_class=classify(checked, len(failing)),
                active_projects=len(by_charity.get(charity.pk, [])),
                checked_projects=checked,
                failing=failing,
                unchecked=unchecked,
                check_counts=dict(sorted(counts.items())),
            )
        )
    return answer


def compliance_of(charity) -> Compliance:
    """One charity's compliance class with its reasons (which projects, which checks, how many)."""
    return compliance_for([charity])[0]


def compliance_visible_to(user) -> list[Compliance]:
    """The ministry and auditors: every charity; a charity's members: their own; anyone else: nothing."""
    if not can_view_compliance(user):
        return []
    charities = Organization.objects.filter(kind=OrganizationKind.CHARITY)
    if not has_oversight(user):
        charities = charities.filter(pk__in=own_charity_ids(user))
    return compliance_for(charities.order_by("name_en", "pk"))
