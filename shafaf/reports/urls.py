from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("projects/<int:pk>/reports/", views.report_list_view, name="report_list"),
    path("projects/<int:pk>/reports/new/", views.report_form_view, name="report_create"),
    path("projects/<int:pk>/reports/<int:report_pk>/", views.report_detail_view, name="report_detail"),
    path("projects/<int:pk>/reports/<int:report_pk>/edit/", views.report_form_view, name="report_edit"),
    *(
        path(
            f"projects/<int:pk>/reports/<int:report_pk>/{action}/",
            views.report_action_view(action),
            name=f"report_{action}",
        )
        for action in views.ACTIONS
    ),
]
