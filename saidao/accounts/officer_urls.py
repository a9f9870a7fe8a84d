from django.urls import path

from . import officer_views as views

app_name = "officer"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("orgs/<int:org_id>/", views.organization, name="organization"),
    path("orgs/<int:org_id>/roster/", views.roster_import, name="roster_import"),
    path("orgs/<int:org_id>/roster.xlsx", views.roster_export, name="roster_export"),
    path("roster-template.xlsx", views.roster_template, name="roster_template"),
    path("members/<int:user_id>/code/", views.member_code, name="member_code"),
]
