from django.urls import path

from . import iati_views, views
from .giving import views as giving_views

app_name = "interop"

urlpatterns = [
    path("open-data/", views.open_data_index, name="open-data"),
    path("open-data/<slug:charity>/iati-activities.xml", iati_views.activities_file, name="iati-activities"),
    path("open-data/<slug:charity>/iati-organisation.xml", iati_views.organisation_file, name="iati-organisation"),
    path("open-data/<slug:charity>/360giving.json", giving_views.grants_file, name="360giving"),
]
