from django.urls import URLPattern, path

from . import views

app_name = "uploads"
urlpatterns: list[URLPattern] = [
    path("tus/", views.tus_collection, name="tus"),
    path("tus/<uuid:upload_id>", views.tus_upload, name="tus-upload"),
]
