from django.urls import path

from . import views

app_name = "regions"
urlpatterns = [path("cities/", views.city_options, name="city_options")]
