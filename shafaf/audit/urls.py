from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("audit/", views.event_list_view, name="event_list"),
    path("audit/verify/", views.verify_view, name="verify"),
    path("audit/checkpoints/", views.checkpoint_list_view, name="checkpoints"),
    path("audit/checkpoints/<int:pk>/download/", views.checkpoint_download_view, name="checkpoint_download"),
    path("audit/<int:seq>/", views.event_detail_view, name="event_detail"),
]
