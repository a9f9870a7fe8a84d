from django.urls import path

from . import views

app_name = "leaderboards"
urlpatterns = [
    path("<int:campaign_id>/screen/", views.screen, name="screen"),
    path("<int:campaign_id>/stream/", views.stream, name="stream"),
    path("<int:campaign_id>/mine/", views.mine, name="mine"),
    path("<int:campaign_id>/mine/snapshot/", views.snapshot_refresh, name="snapshot_refresh"),
    path("<int:campaign_id>/links/", views.links, name="links"),
    path("<int:campaign_id>/links/<int:pk>/revoke/", views.link_revoke, name="link_revoke"),
]
