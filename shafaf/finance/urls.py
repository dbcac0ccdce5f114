from django.urls import path

from . import views

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
]
