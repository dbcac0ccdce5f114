from django.urls import path

from . import views

app_name = "projects"
urlpatterns = [
    path("projects/", views.project_list_view, name="project_list"),
    path("projects/new/", views.project_form_view, name="project_create"),
    path("projects/<int:pk>/", views.project_detail_view, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_form_view, name="project_edit"),
]
