from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from shafaf.accounts.api import OrganizationViewSet
from shafaf.audit.api import AuditEventViewSet
from shafaf.coordination.api import CoordinationSettingsViewSet, FlagViewSet, ProjectCheckViewSet
from shafaf.donations.api import (
    AllocationViewSet,
    BankAccountViewSet,
    CampaignViewSet,
    DonationViewSet,
    DonorViewSet,
)
from shafaf.finance.api import ContractViewSet, DisbursementViewSet
from shafaf.finance.api_budgets import BudgetVersionViewSet
from shafaf.finance.api_deviations import DeviationViewSet
from shafaf.finance.api_expenditures import ExpenditureViewSet
from shafaf.finance.api_rates import ExchangeRateViewSet
from shafaf.partners.api import AccreditationViewSet, OfficerViewSet, PartnerViewSet
from shafaf.partners.api_screening import SanctionsVersionViewSet, ScreeningHitViewSet, ScreenViewSet
from shafaf.projects.api import PhaseViewSet, ProjectViewSet
from shafaf.projects.oversight.api import AlertViewSet, ComplianceViewSet
from shafaf.projects.rulebook.api import RulebookRunViewSet, RuleSettingViewSet
from shafaf.reports.api import ProgressReportViewSet
from shafaf.strategy.api import IndicatorViewSet, ObjectiveViewSet, PlanViewSet

router = DefaultRouter()
# Donations first: the busiest route (channels post every donation) is found without trying the others.
router.register("donations", DonationViewSet, basename="donation")
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("projects", ProjectViewSet, basename="project")
router.register("phases", PhaseViewSet, basename="phase")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("rule-settings", RuleSettingViewSet, basename="rule-setting")
router.register("rulebook-runs", RulebookRunViewSet, basename="rulebook-run")
router.register("alerts", AlertViewSet, basename="alert")
router.register("compliance", ComplianceViewSet, basename="compliance")
router.register("reports", ProgressReportViewSet, basename="report")
router.register("partners", PartnerViewSet, basename="partner")
router.register("officers", OfficerViewSet, basename="officer")
router.register("accreditations", AccreditationViewSet, basename="accreditation")
router.register("sanctions-versions", SanctionsVersionViewSet, basename="sanctions-version")
router.register("screening-hits", ScreeningHitViewSet, basename="screening-hit")
router.register("screen", ScreenViewSet, basename="screen")
router.register("contracts", ContractViewSet, basename="contract")
router.register("disbursements", DisbursementViewSet, basename="disbursement")
router.register("expenditures", ExpenditureViewSet, basename="expenditure")
router.register("budget-versions", BudgetVersionViewSet, basename="budget-version")
router.register("exchange-rates", ExchangeRateViewSet, basename="exchange-rate")
router.register("deviations", DeviationViewSet, basename="deviation")
router.register("donors", DonorViewSet, basename="donor")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("bank-accounts", BankAccountViewSet, basename="bank-account")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("coordination/flags", FlagViewSet, basename="coordination-flag")
router.register("coordination/projects", ProjectCheckViewSet, basename="coordination-project")
router.register("plans", PlanViewSet, basename="plan")
router.register("objectives", ObjectiveViewSet, basename="objective")
router.register("indicators", IndicatorViewSet, basename="indicator")

urlpatterns = [
    path(
        "v1/coordination/settings/",
        CoordinationSettingsViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="coordination-settings",
    ),
    path("v1/open-data/", include("shafaf.interop.api")),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI sets a few styles inline; its scripts still come only from our own origin.
    path(
        "docs/",
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
