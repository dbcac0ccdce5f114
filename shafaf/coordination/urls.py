from django.urls import path

from . import views

app_name = "coordination"
urlpatterns = [
    path("coordination/", views.queue_view, name="queue"),
    path("coordination/flags/<int:pk>/", views.flag_detail_view, name="flag_detail"),
    path("coordination/flags/<int:pk>/decide/", views.flag_decide_view, name="flag_decide"),
    path("coordination/settings/", views.settings_view, name="settings"),
    path("coordination/scans/", views.scan_list_view, name="scan_list"),
    path("coordination/scans/start/", views.scan_start_view, name="scan_start"),
    path("coordination/scans/<int:pk>/progress/", views.scan_progress_view, name="scan_progress"),
    path("projects/<int:pk>/coordination/", views.project_panel_view, name="project_panel"),
    path("projects/<int:pk>/coordination/run/", views.project_check_run_view, name="project_check_run"),
]
