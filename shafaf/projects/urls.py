from django.urls import path

from . import views, views_import, workflow

app_name = "projects"
urlpatterns = [
    path("projects/", views.project_list_view, name="project_list"),
    path("projects/new/", views.project_form_view, name="project_create"),
    path("projects/review/", views.review_queue_view, name="review_queue"),
    path("projects/import/", views_import.project_import_view, name="project_import"),
    path("projects/import/sample.csv", views_import.project_import_sample_view, name="project_import_sample"),
    path("projects/<int:pk>/", views.project_detail_view, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_form_view, name="project_edit"),
    path("projects/<int:pk>/revision/", views.project_revision_view, name="project_revision"),
    path("projects/<int:pk>/phases/new/", views.phase_create_view, name="phase_create"),
    path("projects/<int:pk>/phases/<int:phase_pk>/progress/", views.phase_progress_view, name="phase_progress"),
    path("projects/<int:pk>/documents/new/", views.document_add_view, name="document_add"),
    path(
        "projects/<int:pk>/documents/<int:document_pk>/download/",
        views.document_download_view,
        name="document_download",
    ),
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
