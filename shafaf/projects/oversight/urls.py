from django.urls import path

from . import views

app_name = "oversight"
urlpatterns = [
    path("alerts/", views.alert_list_view, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert_acknowledge"),
    path("compliance/", views.compliance_view, name="compliance"),
]
