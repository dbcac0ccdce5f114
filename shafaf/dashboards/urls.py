from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("dashboard/", views.home_view, name="home"),
    path("dashboard/public/", views.public_view, name="public"),
    path("dashboard/public/map.json", views.public_map_view, name="public_map"),
    path("dashboard/public/export.xlsx", views.public_export_view, name="public_export"),
    path("dashboard/<slug:kind>/", views.dashboard_view, name="dashboard"),
    path("dashboard/<slug:kind>/map.json", views.map_view, name="map"),
    path("dashboard/<slug:kind>/export.xlsx", views.export_view, name="export"),
    path("dashboard/<slug:kind>/details/", views.details_view, name="details"),
]
