from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("accounts/login/", views.login_view, name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/two-factor/", views.two_factor_view, name="two_factor"),
    path("accounts/profile/", views.profile_view, name="profile"),
    path("accounts/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("accounts/set-password/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
    path("accounts/set-password/done/", views.SetPasswordDoneView.as_view(), name="set_password_done"),
    path("i18n/language/", views.set_language_view, name="set_language"),
    path("organizations/", views.organization_list_view, name="organization_list"),
    path("organizations/new/", views.organization_form_view, name="organization_create"),
    path("organizations/<int:pk>/", views.organization_detail_view, name="organization_detail"),
    path("organizations/<int:pk>/edit/", views.organization_form_view, name="organization_edit"),
    path("memberships/<int:pk>/end/", views.membership_deactivate_view, name="membership_deactivate"),
]
