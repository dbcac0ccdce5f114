from django.urls import path

from . import views, views_budgets, views_deviations, views_expenditures, views_insight, views_rates

app_name = "finance"
urlpatterns = [
    path("projects/<int:pk>/contracts/", views.contract_list_view, name="contract_list"),
    path("projects/<int:pk>/contracts/new/", views.contract_create_view, name="contract_create"),
    path("projects/<int:pk>/contracts/<int:contract_pk>/", views.contract_detail_view, name="contract_detail"),
    path(
        "projects/<int:pk>/contracts/<int:contract_pk>/document/",
        views.contract_document_view,
        name="contract_document",
    ),
    path(
        "projects/<int:pk>/contracts/<int:contract_pk>/download/",
        views.contract_download_view,
        name="contract_download",
    ),
    path(
        "projects/<int:pk>/contracts/<int:contract_pk>/disbursements/new/",
        views.disbursement_create_view,
        name="disbursement_create",
    ),
    # --- budgets, tranches, licensed administrative shares (BUDGETS) ---
    path("projects/<int:pk>/budget/", views_budgets.budget_view, name="budget"),
    path("projects/<int:pk>/budget/new/", views_budgets.budget_create_view, name="budget_create"),
    path("projects/<int:pk>/budget/commit/", views_budgets.budget_commit_view, name="budget_commit"),
    path(
        "projects/<int:pk>/contracts/<int:contract_pk>/tranches/new/",
        views_budgets.tranche_create_view,
        name="tranche_create",
    ),
    path("finance/admin-share/", views_budgets.admin_share_view, name="admin_share"),
    # --- end budgets ---
    # --- deviations (DEVIATIONS) ---
    path("projects/<int:pk>/deviations/", views_deviations.project_deviations_view, name="deviations"),
    path(
        "projects/<int:pk>/deviations/<int:deviation_pk>/",
        views_deviations.deviation_detail_view,
        name="deviation_detail",
    ),
    path(
        "projects/<int:pk>/deviations/<int:deviation_pk>/justify/",
        views_deviations.deviation_justify_view,
        name="deviation_justify",
    ),
    path(
        "projects/<int:pk>/deviations/<int:deviation_pk>/decide/",
        views_deviations.deviation_decide_view,
        name="deviation_decide",
    ),
    path("finance/deviations/", views_deviations.deviation_queue_view, name="deviation_queue"),
    path("finance/settings/", views_deviations.finance_settings_view, name="settings"),
    # --- end deviations ---
    # --- insight: earned value, portfolio, statements (INSIGHT) ---
    path("finance/portfolio/", views_insight.portfolio_view, name="portfolio"),
    path("projects/<int:pk>/earned-value/", views_insight.earned_value_view, name="earned_value"),
    path("projects/<int:pk>/statement/", views_insight.statement_view, name="statement"),
    path("projects/<int:pk>/statement/xlsx/", views_insight.statement_xlsx_view, name="statement_xlsx"),
    path("projects/<int:pk>/statement/pdf/", views_insight.statement_pdf_view, name="statement_pdf"),
    path("finance/charities/<slug:slug>/statement/", views_insight.charity_statement_view, name="charity_statement"),
    path(
        "finance/charities/<slug:slug>/statement/xlsx/",
        views_insight.charity_statement_xlsx_view,
        name="charity_statement_xlsx",
    ),
    path(
        "finance/charities/<slug:slug>/statement/pdf/",
        views_insight.charity_statement_pdf_view,
        name="charity_statement_pdf",
    ),
    # --- end insight ---
    # --- exchange rates (RATES) ---
    path("finance/rates/", views_rates.rates_view, name="rates"),
    path("finance/rates/new/", views_rates.rate_create_view, name="rate_create"),
    path("finance/rates/import/", views_rates.rates_import_view, name="rates_import"),
    path("finance/rates/imports/<int:import_pk>/", views_rates.rates_import_detail_view, name="rates_import_detail"),
    # --- end exchange rates ---
    # --- expenditures and their spreadsheet imports (EXPENDITURES) ---
    path("projects/<int:pk>/expenditures/", views_expenditures.expenditure_list_view, name="expenditure_list"),
    path("projects/<int:pk>/expenditures/new/", views_expenditures.expenditure_create_view, name="expenditure_create"),
    path(
        "projects/<int:pk>/expenditures/<int:expenditure_pk>/",
        views_expenditures.expenditure_detail_view,
        name="expenditure_detail",
    ),
    path(
        "projects/<int:pk>/expenditures/<int:expenditure_pk>/download/",
        views_expenditures.expenditure_download_view,
        name="expenditure_download",
    ),
    path(
        "projects/<int:pk>/expenditures/import/", views_expenditures.expenditure_import_view, name="expenditure_import"
    ),
    path(
        "projects/<int:pk>/expenditures/imports/<int:import_pk>/",
        views_expenditures.import_detail_view,
        name="import_detail",
    ),
    # --- end expenditures ---
]
