from django.urls import path

from . import views, workflow

app_name = "projects"
urlpatterns = [
    path("projects/", views.project_list_view, name="project_list"),
    path("projects/new/", views.project_form_view, name="project_create"),
    path("projects/review/", views.review_queue_view, name="review_queue"),
    path("projects/<int:pk>/", views.project_detail_view, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_form_view, name="project_edit"),
    # The workflow's actions (projects/workflow.py), POST only: /projects/<pk>/submit/, .../start-review/, ...
    *(
        path(
            f"projects/<int:pk>/{action}/",
            views.project_transition_view(action),
            name=views.transition_url_name(action),
        )
        for action in workflow.ACTIONS
    ),
]
