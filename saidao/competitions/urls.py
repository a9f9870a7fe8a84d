from django.urls import path

from . import views

app_name = "competitions"
urlpatterns = [
    path("", views.index, name="index"),
    path("<int:program_id>/", views.program, name="program"),
    path("<int:program_id>/table.xlsx", views.program_xlsx, name="program_xlsx"),
    path("<int:program_id>/report/", views.reporting, name="reporting"),
    path("<int:program_id>/verify/", views.verify_queue, name="verify"),
    path("c/<int:competition_id>/", views.competition, name="competition"),
    path("c/<int:competition_id>/periods/", views.period_new, name="period_new"),
    path("c/<int:competition_id>/import/", views.import_page, name="import"),
    path("c/<int:competition_id>/template.xlsx", views.import_template, name="import_template"),
    path("c/<int:competition_id>/<int:period_id>/", views.board, name="board"),
    path(
        "c/<int:competition_id>/<int:period_id>/ranking.xlsx", views.board_xlsx, name="board_xlsx"
    ),
    path(
        "c/<int:competition_id>/<int:period_id>/p/<int:participant_id>/",
        views.scorecard,
        name="scorecard",
    ),
    path("c/<int:competition_id>/<int:period_id>/help/", views.help_page, name="help"),
    path("c/<int:competition_id>/<int:period_id>/titles/", views.titles, name="titles"),
    path(
        "c/<int:competition_id>/<int:period_id>/titles/nominate/",
        views.title_nominate,
        name="title_nominate",
    ),
    path("periods/<int:period_id>/state/", views.period_state, name="period_state"),
    path("periods/<int:period_id>/compute/", views.compute, name="compute"),
    path("snapshots/<int:snapshot_id>/publish/", views.publish, name="publish"),
    path("help/<int:assignment_id>/assign/", views.help_assign, name="help_assign"),
    path("help/<int:assignment_id>/note/", views.help_note, name="help_note"),
    path("titles/<int:title_id>/<str:action>/", views.title_action, name="title_action"),
    path("r/<int:participant_id>/<int:period_id>/", views.report_form, name="report"),
    path(
        "r/<int:participant_id>/<int:period_id>/evidence/",
        views.evidence_upload,
        name="evidence_upload",
    ),
    path("evidence/<int:evidence_id>/", views.evidence, name="evidence"),
    path("reports/<int:report_id>/verify/", views.report_verify, name="report_verify"),
    path("reports/<int:report_id>/return/", views.report_return, name="report_return"),
]
