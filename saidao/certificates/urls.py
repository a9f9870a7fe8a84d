from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("mine/", views.mine, name="mine"),
    path("verify/", views.lookup, name="lookup"),
    path("verify/<str:code>/", views.verify, name="verify"),
    path("<str:code>.png", views.png, name="png"),
    path("<str:code>.pdf", views.pdf, name="pdf"),
]
