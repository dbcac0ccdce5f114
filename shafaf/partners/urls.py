from django.urls import path

from . import views

app_name = "partners"
accreditation = "partners/<int:pk>/accreditations/<int:accreditation_pk>"
urlpatterns = [
    path("partners/", views.partner_list_view, name="partner_list"),
    path("partners/new/", views.partner_form_view, name="partner_create"),
    path("partners/import/", views.import_view, name="partner_import"),
    path("partners/import/sample.csv", views.import_sample_view, name="partner_import_sample"),
    path("partners/<int:pk>/", views.partner_detail_view, name="partner_detail"),
    path("partners/<int:pk>/edit/", views.partner_form_view, name="partner_edit"),
    path("partners/<int:pk>/names/new/", views.name_add_view, name="name_add"),
    path("partners/<int:pk>/names/<int:name_pk>/remove/", views.name_remove_view, name="name_remove"),
    path("partners/<int:pk>/addresses/new/", views.address_add_view, name="address_add"),
    path("partners/<int:pk>/addresses/<int:address_pk>/remove/", views.address_remove_view, name="address_remove"),
    path("partners/<int:pk>/officers/new/", views.officer_add_view, name="officer_add"),
    path(
        "partners/<int:pk>/officers/<int:officer_pk>/deactivate/",
        views.officer_deactivate_view,
        name="officer_deactivate",
    ),
    path("partners/<int:pk>/accreditations/new/", views.accreditation_record_view, name="accreditation_record"),
    path(f"{accreditation}/documents/new/", views.accreditation_document_add_view, name="accreditation_document_add"),
    path(
        f"{accreditation}/documents/<int:document_pk>/download/",
        views.accreditation_document_download_view,
        name="accreditation_document_download",
    ),
    *(
        path(f"{accreditation}/{action}/", views.accreditation_action_view(action), name=f"accreditation_{action}")
        for action in views.ACCREDITATION_ACTIONS
    ),
]
