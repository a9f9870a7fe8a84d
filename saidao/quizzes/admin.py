"""Contests on the scoped admin site: officers see their subtree's banks, contests, attempts and
results. Content that papers depend on (a question's text, options and answer; attempts and
results) is read-only here: edits go through the services, which keep versions and scores."""

from __future__ import annotations

from django.contrib import admin

from saidao.orgs.admin import ScopedAdmin, saidao_admin

from .models import Attempt, Contest, ContestResult, PaperRule, Question, QuestionVersion


class QuestionVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = QuestionVersion
    extra = 0
    can_delete = False
    fields = ("number", "kind", "stem", "answer", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Question, site=saidao_admin)
class QuestionAdmin(ScopedAdmin):
    scope_path = "organization__path"
    list_display = ("stem", "kind", "category", "difficulty", "organization", "times_used")
    list_filter = ("kind", "difficulty", "category")
    search_fields = ("stem", "category")
    list_select_related = ("organization",)
    readonly_fields = (
        "organization",
        "kind",
        "stem",
        "options",
        "answer",
        "explanation",
        "current_version",
        "times_used",
        "archived_at",
        "created_by",
    )
    fields = (
        "organization",
        "kind",
        "stem",
        "options",
        "answer",
        "explanation",
        "category",
        "difficulty",
        "source",
        "current_version",
        "times_used",
        "archived_at",
        "created_by",
    )
    inlines = (QuestionVersionInline,)


class PaperRuleInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PaperRule
    extra = 0


@admin.register(Contest, site=saidao_admin)
class ContestAdmin(ScopedAdmin):
    scope_path = "campaign__organizer__path"
    list_display = ("title", "campaign", "bank", "time_limit_s", "tries_per_day", "pass_score")
    search_fields = ("title", "campaign__title")
    list_select_related = ("campaign", "bank")
    readonly_fields = ("campaign", "bank", "created_by")
    inlines = (PaperRuleInline,)


@admin.register(Attempt, site=saidao_admin)
class AttemptAdmin(ScopedAdmin):
    scope_path = "organization__path"
    officer_can_change = False
    list_display = ("contest", "worker", "organization", "status", "score", "started_at", "day")
    list_filter = ("status",)
    list_select_related = ("contest", "worker", "organization")
    search_fields = ("worker__real_name", "worker__phone")


@admin.register(ContestResult, site=saidao_admin)
class ContestResultAdmin(ScopedAdmin):
    scope_path = "org_path"
    officer_can_change = False
    list_display = ("contest", "worker", "organization", "score", "elapsed_ms", "tries", "passed")
    list_filter = ("passed",)
    list_select_related = ("contest", "worker", "organization")
    search_fields = ("worker__real_name",)
