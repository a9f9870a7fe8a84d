"""URLs that exist only in a benchmark's own server (settings.SAIDAO_BENCH)."""

from django.urls import URLPattern, path

from . import views

app_name = "bench"
urlpatterns: list[URLPattern] = [
    path("put/<slug:name>", views.bench_put, name="put"),
]
