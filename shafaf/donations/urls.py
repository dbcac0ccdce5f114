from django.urls import path

from . import views, views_login, views_portal, views_receipts

app_name = "donations"
urlpatterns = [
    # The charity's pages (CORE): donations, donors, bank accounts, settlement files.
    path("donations/", views.donation_list_view, name="donation_list"),
    path("donations/new/", views.donation_create_view, name="donation_create"),
    path("donations/<int:pk>/", views.donation_detail_view, name="donation_detail"),
    path("donations/<int:pk>/allocate/", views.donation_allocate_view, name="donation_allocate"),
    path("donations/<int:pk>/refund/", views.donation_refund_view, name="donation_refund"),
    path("donations/donors/", views.donor_list_view, name="donor_list"),
    path("donations/donors/new/", views.donor_create_view, name="donor_create"),
    path("donations/bank-accounts/", views.bank_account_list_view, name="bank_account_list"),
    path("donations/bank-accounts/new/", views.bank_account_create_view, name="bank_account_create"),
    path("donations/bank-accounts/<int:pk>/approve/", views.bank_account_approve_view, name="bank_account_approve"),
    path("donations/imports/", views.import_list_view, name="import_list"),
    path("donations/imports/<int:pk>/", views.import_detail_view, name="import_detail"),
    # The donor portal (donor accounts only) and the public project pages (no login).
    path("donor/", views_portal.portal_home_view, name="portal_home"),
    # One-time sign-in links e-mailed to donor accounts (no login).
    path("donor/login/", views_login.login_link_request_view, name="login_link_request"),
    path("donor/login/<str:token>/", views_login.login_link_use_view, name="login_link_use"),
    path("donor/donations/<int:pk>/", views_portal.portal_donation_view, name="portal_donation"),
    path("donor/projects/<int:pk>/", views_portal.portal_project_view, name="portal_project"),
    path(
        "donor/projects/<int:pk>/evidence/<int:document_pk>/",
        views_portal.portal_evidence_view,
        name="portal_evidence",
    ),
    path("donor/notifications/", views_portal.portal_notifications_view, name="portal_notifications"),
    path(
        "donor/notifications/<int:pk>/read/",
        views_portal.portal_notification_read_view,
        name="portal_notification_read",
    ),
    path(
        "donor/notifications/read-all/",
        views_portal.portal_notifications_read_all_view,
        name="portal_notifications_read_all",
    ),
    path("p/<str:reference>/", views_portal.public_project_view, name="public_project"),
    # Receipts: public verification and the published key (no login); the PDFs for those who may see them.
    path("verify/", views_receipts.verify_form_view, name="verify_form"),
    path("verify/<str:code>/", views_receipts.verify_view, name="verify"),
    path("receipts/public-key/", views_receipts.public_key_view, name="public_key"),
    path("receipts/public-key.pem", views_receipts.public_key_pem_view, name="public_key_pem"),
    path("donations/<int:pk>/receipt.pdf", views_receipts.receipt_pdf_view, name="receipt_pdf"),
    path("donors/<int:pk>/statements/<int:year>.pdf", views_receipts.annual_statement_view, name="annual_statement"),
]
