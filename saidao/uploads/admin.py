"""Uploads in the admin: read-only, and for superusers only (they hold workers' files)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from saidao.orgs.admin import saidao_admin

from .models import Upload


@admin.register(Upload, site=saidao_admin)
class UploadAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["id", "purpose", "filename", "owner", "status", "offset", "declared_size"]
    list_filter = ["status", "purpose", "backend"]
    search_fields = ["id", "filename", "sha256"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    readonly_fields = [f.name for f in Upload._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
