from django.urls import path

from . import views

app_name = "quizzes"
urlpatterns = [
    path("c/<int:pk>/", views.contest, name="contest"),
    path("c/<int:pk>/start/", views.start, name="start"),
    path("c/<int:pk>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("campaign/<slug:slug>/", views.campaign_contest, name="campaign"),
    path("a/<int:pk>/", views.attempt, name="attempt"),
    path("a/<int:pk>/save/", views.save, name="save"),
    path("a/<int:pk>/submit/", views.submit, name="submit"),
    path("a/<int:pk>/result/", views.result, name="result"),
    path("officer/", views.officer_index, name="officer"),
    path("officer/bank/<int:org_id>/", views.bank, name="bank"),
    path("officer/bank/<int:org_id>/new/", views.question_new, name="question_new"),
    path("officer/bank/<int:org_id>/import/", views.bank_import, name="bank_import"),
    path("officer/bank/<int:org_id>/export/", views.bank_export, name="bank_export"),
    path("officer/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path("officer/template/", views.question_template, name="template"),
    path("officer/campaigns/<int:campaign_id>/contest/", views.contest_new, name="contest_new"),
    path("officer/contests/<int:pk>/", views.contest_settings, name="contest_settings"),
    path("officer/contests/<int:pk>/results/", views.contest_results, name="results"),
    path("officer/contests/<int:pk>/results.xlsx", views.contest_results_xlsx, name="results_xlsx"),
]
