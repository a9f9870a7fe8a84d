from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("me/", views.me, name="me"),
    path("me/delete/", views.delete_account, name="delete"),
    path("join/", views.join, name="join"),
    path("activate/", views.activate, name="activate"),
    path("reset/", views.reset_password, name="reset"),
]
