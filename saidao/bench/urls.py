"""URLs that exist only in a benchmark's own server (settings.SAIDAO_BENCH)."""

from django.urls import URLPattern

app_name = "bench"
urlpatterns: list[URLPattern] = []
