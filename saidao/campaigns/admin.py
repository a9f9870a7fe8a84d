from __future__ import annotations

from django.contrib import admin

from saidao.orgs.admin import ScopedAdmin, saidao_admin

from .models import Campaign, Phase, Theme


class ThemeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Theme
    extra = 0


class PhaseInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Phase
    extra = 0
    readonly_fields = ("override", "override_by", "override_at", "override_reason")


@admin.register(Campaign, site=saidao_admin)
class CampaignAdmin(ScopedAdmin):
    """Campaigns organized in the officer's subtree; overrides go through the audited page."""

    scope_path = "organizer__path"
    list_display = ("title", "organizer", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("title", "slug")
    list_select_related = ("organizer",)
    readonly_fields = ("organizer", "slug")
    inlines = (ThemeInline, PhaseInline)
