from django.urls import path

from . import views

app_name = "strategy"
urlpatterns = [
    path("strategy/", views.plan_list_view, name="plan_list"),
    path("strategy/plans/new/", views.plan_create_view, name="plan_create"),
    path("strategy/plans/<int:pk>/", views.plan_detail_view, name="plan_detail"),
    path("strategy/plans/<int:pk>/versions/new/", views.version_new_view, name="version_new"),
    path("strategy/versions/<int:pk>/edit/", views.version_edit_view, name="version_edit"),
    path("strategy/versions/<int:pk>/publish/", views.version_publish_view, name="version_publish"),
    path("strategy/versions/<int:pk>/objectives/new/", views.objective_create_view, name="objective_create"),
    path("strategy/objectives/without-projects/", views.objectives_without_projects_view, name="without_projects"),
    path("strategy/objectives/<int:pk>/", views.objective_detail_view, name="objective_detail"),
    path("strategy/objectives/<int:pk>/edit/", views.objective_edit_view, name="objective_edit"),
    path("strategy/objectives/<int:pk>/delete/", views.objective_delete_view, name="objective_delete"),
    path("strategy/objectives/<int:pk>/indicators/new/", views.indicator_create_view, name="indicator_create"),
    path("strategy/indicators/<int:pk>/", views.indicator_detail_view, name="indicator_detail"),
    path("strategy/indicators/<int:pk>/edit/", views.indicator_edit_view, name="indicator_edit"),
    path("strategy/indicators/<int:pk>/delete/", views.indicator_delete_view, name="indicator_delete"),
    path("strategy/indicators/<int:pk>/targets/", views.target_set_view, name="target_set"),
    path("strategy/targets/<int:pk>/delete/", views.target_delete_view, name="target_delete"),
    path("projects/<int:pk>/strategy/objectives/", views.project_objectives_view, name="project_objectives"),
    path(
        "projects/<int:pk>/strategy/indicators/new/",
        views.project_indicator_create_view,
        name="project_indicator_create",
    ),
]
