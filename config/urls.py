from django.urls import include, path

from shafaf.core.home import health_view, home_view

urlpatterns = [
    path("", home_view, name="home"),
    path("healthz", health_view, name="health"),
    path("api/", include("shafaf.api.urls")),  # first: an API request need not try every page pattern
    path("", include("shafaf.accounts.urls")),
    path("", include("shafaf.projects.rulebook.urls")),  # before projects: /projects/<pk>/checks/ is not an action
    path("", include("shafaf.coordination.urls")),  # /coordination/..., /projects/<pk>/coordination/
    path("", include("shafaf.projects.oversight.urls")),  # /alerts/, /compliance/
    path("", include("shafaf.reports.urls")),  # /projects/<pk>/reports/...
    path("", include("shafaf.partners.urls")),  # /partners/...
    path("", include("shafaf.finance.urls")),  # /projects/<pk>/contracts/...
    path("", include("shafaf.donations.urls")),  # /donor/..., /p/<reference>/, donations, receipts
    path("", include("shafaf.dashboards.urls")),  # /dashboard/...
    path("", include("shafaf.strategy.urls")),  # /strategy/..., /projects/<pk>/strategy/...
    path("", include("shafaf.interop.urls")),  # /open-data/...
    path("", include("shafaf.projects.urls")),
    path("", include("shafaf.audit.urls")),
    path("", include("shafaf.partners.urls_screening")),  # /sanctions/, /screening/
]

# An unknown URL under /api/ answers in the API's error format; pages keep templates/404.html.
handler404 = "shafaf.api.errors.page_not_found"
