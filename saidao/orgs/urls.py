from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("parents/", views.parent_options, name="parent_options"),
    path("<int:org_id>/approve/", views.approve, name="approve"),
    path("<int:org_id>/reject/", views.reject, name="reject"),
    path("<int:org_id>/invite-codes/", views.invite_create, name="invite_create"),
    path("invite/<str:code>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("invite/<str:code>/qr.svg", views.invite_qr, name="invite_qr"),
]
