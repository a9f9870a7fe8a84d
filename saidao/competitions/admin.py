"""Labor competitions on the scoped admin site: officers see the programs of their subtree.

Setup (names, descriptions, outcome settings, indicators) may be edited here; reports,
snapshots and titles are read-only because their changes go through the audited services
(the workflow, corrections with a reason, compute/publish, approval).
"""

from __future__ import annotations

from django.contrib import admin

from saidao.orgs.admin import ScopedAdmin, saidao_admin

from .models import (
    Award,
    Category,
    Competition,
    Evidence,
    HelpAssignment,
    HelpNote,
    Indicator,
    Participant,
    Period,
    Program,
    ProgramRole,
    Report,
    ReportValue,
    Snapshot,
    Title,
)

PROGRAM_PATH = "program__organization__path"
COMPETITION_PATH = "competition__program__organization__path"


class CategoryInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Category
    extra = 0
    fields = ("position", "name", "description")


class ProgramRoleInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ProgramRole
    extra = 0
    fields = ("kind", "user", "organization", "granted_by")
    readonly_fields = ("kind", "user", "organization", "granted_by")

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Program, site=saidao_admin)
class ProgramAdmin(ScopedAdmin):
    scope_path = "organization__path"
    list_display = ("name", "year", "organization", "total_weight", "status")
    list_filter = ("status", "year")
    search_fields = ("name",)
    list_select_related = ("organization",)
    readonly_fields = ("organization", "total_weight", "created_by")
    inlines = (CategoryInline, ProgramRoleInline)


class IndicatorInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Indicator
    extra = 0
    fields = (
        ("position", "code", "name", "unit"),
        ("direction", "source", "formula"),
        ("count_source", "count_param", "required"),
        ("rule", "weight", "target", "full_marks", "cap", "floor"),
        ("rank_first", "rank_step", "bands", "per_unit", "veto_threshold"),
    )


@admin.register(Competition, site=saidao_admin)
class CompetitionAdmin(ScopedAdmin):
    scope_path = PROGRAM_PATH
    list_display = ("name", "category", "program", "participant_kind", "period_kind")
    list_filter = ("participant_kind", "period_kind")
    search_fields = ("name",)
    list_select_related = ("category", "program")
    readonly_fields = ("program", "category", "participant_kind", "period_kind")
    inlines = (IndicatorInline,)


@admin.register(Participant, site=saidao_admin)
class ParticipantAdmin(ScopedAdmin):
    scope_path = COMPETITION_PATH
    list_display = ("code", "name", "competition", "bracket", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    list_select_related = ("competition", "bracket")
    readonly_fields = ("competition", "organization", "user", "home", "code")


@admin.register(Period, site=saidao_admin)
class PeriodAdmin(ScopedAdmin):
    scope_path = COMPETITION_PATH
    list_display = ("key", "label", "competition", "starts_on", "ends_on", "state")
    list_filter = ("state",)
    list_select_related = ("competition",)
    officer_can_change = False  # opening and locking go through period_set_state (audited)


class ReportValueInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ReportValue
    extra = 0
    readonly_fields = ("indicator", "value", "note")


class EvidenceInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Evidence
    extra = 0
    readonly_fields = ("name", "file", "uploaded_by", "created_at")


@admin.register(Report, site=saidao_admin)
class ReportAdmin(ScopedAdmin):
    scope_path = "participant__" + COMPETITION_PATH
    list_display = ("participant", "period", "version", "is_current", "state", "updated_at")
    list_filter = ("state", "is_current")
    search_fields = ("participant__code", "participant__name")
    list_select_related = ("participant", "period")
    officer_can_change = False
    inlines = (ReportValueInline, EvidenceInline)


class AwardInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Award
    extra = 0
    readonly_fields = ("participant", "bracket", "rank", "amount")


@admin.register(Snapshot, site=saidao_admin)
class SnapshotAdmin(ScopedAdmin):
    scope_path = "period__" + COMPETITION_PATH
    list_display = ("period", "number", "row_count", "computed_at", "published_at")
    list_select_related = ("period",)
    exclude = ("rules",)
    officer_can_change = False
    inlines = (AwardInline,)


class HelpNoteInline(admin.TabularInline):  # type: ignore[type-arg]
    model = HelpNote
    extra = 0
    readonly_fields = ("author", "text", "created_at")


@admin.register(HelpAssignment, site=saidao_admin)
class HelpAssignmentAdmin(ScopedAdmin):
    scope_path = "snapshot__period__" + COMPETITION_PATH
    list_display = ("participant", "snapshot", "rank", "helper_organization", "helper_user")
    list_select_related = ("participant", "snapshot", "helper_organization", "helper_user")
    readonly_fields = ("snapshot", "participant", "rank", "helper_user")
    inlines = (HelpNoteInline,)


@admin.register(Title, site=saidao_admin)
class TitleAdmin(ScopedAdmin):
    scope_path = "snapshot__period__" + COMPETITION_PATH
    list_display = ("name", "participant", "rank", "state", "certificate_code")
    list_filter = ("state",)
    list_select_related = ("participant",)
    officer_can_change = False
