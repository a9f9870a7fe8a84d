"""The Django admin, open to officers and scoped to their part of the tree."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from saidao.regions.models import Region

from .models import InviteCode, Organization, Role
from .selectors import officer_paths, path_in_scope, scope_q


class SaidaoAdminSite(admin.AdminSite):
    site_header = _("赛道 · 工会管理后台")
    site_title = _("赛道管理后台")
    index_title = _("我管理的组织")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or officer_paths(user=user)))


saidao_admin = SaidaoAdminSite(name="admin")


class ScopedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Officers see and change only rows inside their subtrees; superusers see everything.

    ``scope_path`` names the path of the organization a row belongs to.
    """

    scope_path = "organization__path"
    officer_can_change = True

    def _paths(self, request: HttpRequest) -> list[str]:
        return officer_paths(user=request.user)

    def _row_path(self, obj: Any) -> str:
        value = obj
        for part in self.scope_path.split("__"):
            value = getattr(value, part)
        return str(value)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(scope_q(self._paths(request), field=self.scope_path))

    def _allowed(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        paths = self._paths(request)
        if not paths:
            return False
        return obj is None or path_in_scope(path=self._row_path(obj), paths=paths)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.officer_can_change and self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows are created through the services (register, invite, import)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Organization and not request.user.is_superuser:
            kwargs["queryset"] = Organization.objects.filter(scope_q(self._paths(request)))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Organization, site=saidao_admin)
class OrganizationAdmin(ScopedAdmin):
    scope_path = "path"
    list_display = ("name", "level", "kind", "region", "status", "parent")
    list_filter = ("level", "kind", "status")
    search_fields = ("name", "credit_code")
    list_select_related = ("region", "parent")
    readonly_fields = (
        "parent",
        "path",
        "depth",
        "status",
        "applied_by",
        "decided_by",
        "decided_at",
    )
    fields = (
        "name",
        "level",
        "kind",
        "region",
        "credit_code",
        "contact_name",
        "contact_phone",
        "parent",
        "status",
        "rejection_reason",
        "applied_by",
        "decided_by",
        "decided_at",
        "path",
        "depth",
    )
    autocomplete_fields = ("region",)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        """Officers may correct names and contacts; level and region follow the services'
        rules (a level never above the parent's), so only superusers edit them here."""
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return (*fields, "level", "region")


@admin.register(Role, site=saidao_admin)
class RoleAdmin(ScopedAdmin):
    list_display = ("organization", "user", "kind", "granted_by", "created_at", "accepted_at")
    list_filter = ("kind",)
    list_select_related = ("organization", "user", "granted_by")
    # Appointing goes through role_grant, which asks an outsider's consent; here one only
    # looks, and revokes.
    readonly_fields = ("organization", "user", "kind", "granted_by", "accepted_at")

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # As in role_revoke: nobody removes their own officer role; the level above does.
        if (
            isinstance(obj, Role)
            and obj.user_id == request.user.pk
            and obj.kind == Role.Kind.OFFICER
            and not request.user.is_superuser
        ):
            return False
        return self._allowed(request, obj)


@admin.register(InviteCode, site=saidao_admin)
class InviteCodeAdmin(ScopedAdmin):
    list_display = ("code", "organization", "expires_at", "revoked_at", "uses")
    list_select_related = ("organization",)
    readonly_fields = ("code", "organization", "created_by", "uses")
    search_fields = ("code",)


@admin.register(Region, site=saidao_admin)
class RegionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: regions come from the shipped GB/T 2260 data."""

    list_display = ("code", "name", "level", "kind", "parent", "zone_city")
    list_filter = ("level", "kind")
    search_fields = ("code", "name")
    list_select_related = ("parent", "zone_city")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return saidao_admin.has_permission(request)  # needed for autocomplete in scoped forms

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
