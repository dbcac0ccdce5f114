from django.urls import path

from . import views

app_name = "rulebook"
urlpatterns = [
    path("rulebook/", views.rulebook_view, name="rulebook"),
    path("rulebook/<slug:code>/edit/", views.rule_setting_edit_view, name="setting_edit"),
    path("projects/<int:pk>/checks/", views.project_checks_view, name="project_checks"),
    path("projects/<int:pk>/checks/run/", views.project_checks_run_view, name="project_checks_run"),
]
