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
    path("recover/", views.recover, name="recover"),
    path("sms-code/", views.sms_code, name="sms_code"),
    path("security/", views.security, name="security"),
    path("security/sessions/<int:session_id>/revoke/", views.session_revoke, name="session_revoke"),
    path("security/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path(
        "invitations/<int:invitation_id>/<str:decision>/",
        views.invitation_decide,
        name="invitation_decide",
    ),
    path(
        "role-invitations/<int:role_id>/<str:decision>/",
        views.role_invitation_decide,
        name="role_invitation_decide",
    ),
]
