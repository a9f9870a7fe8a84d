from django.urls import path

from . import views

app_name = "entries"
urlpatterns = [
    path("new/<slug:slug>/", views.new, name="new"),
    path("mine/<slug:slug>/", views.mine, name="mine"),
    path("<int:pk>/", views.status, name="status"),
    path("gallery/<slug:slug>/", views.gallery_view, name="gallery"),
    path("watch/<int:pk>/", views.watch, name="watch"),
    path("watch/<int:pk>/like/", views.like, name="like"),
    path("watch/<int:pk>/report/", views.report, name="report"),
    path("review/", views.review, name="review"),
    path("review/<slug:slug>/stats/", views.stats, name="stats"),
]
