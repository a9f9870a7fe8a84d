from django.urls import path

from . import views

app_name = "campaigns"
urlpatterns = [
    path("officer/", views.officer_list, name="officer_list"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("officer/<int:pk>/", views.officer_campaign, name="officer"),
    path("officer/phases/<int:pk>/override/", views.phase_override_view, name="override"),
]
