from django.urls import path

from . import views_screening as views

app_name = "screening"
urlpatterns = [
    path("sanctions/", views.version_list_view, name="version_list"),
    path("sanctions/upload/", views.upload_view, name="upload"),
    path("sanctions/<int:pk>/", views.version_detail_view, name="version_detail"),
    path("sanctions/<int:pk>/progress/", views.version_progress_view, name="version_progress"),
    path("screening/hits/", views.hit_list_view, name="hit_list"),
    path("screening/hits/<int:pk>/", views.hit_detail_view, name="hit_detail"),
    path("screening/hits/<int:pk>/confirm/", views.hit_confirm_view, name="hit_confirm"),
    path("screening/hits/<int:pk>/clear/", views.hit_clear_view, name="hit_clear"),
    path("screening/partners/<int:pk>/screen/", views.partner_screen_view, name="partner_screen"),
]
