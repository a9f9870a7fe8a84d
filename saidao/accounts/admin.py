from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.http import HttpRequest

from saidao.orgs.admin import ScopedAdmin, saidao_admin
from saidao.orgs.selectors import path_in_scope, scope_q

from .models import Membership, MembershipInvitation, User


@admin.register(Membership, site=saidao_admin)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "organization", "source", "joined_at", "left_at")
    list_filter = ("source",)
    list_select_related = ("user", "organization")
    search_fields = ("user__real_name",)
    readonly_fields = ("user", "organization", "source", "invite_code", "joined_at", "left_at")
    officer_can_change = False


@admin.register(User, site=saidao_admin)
class UserAdmin(ScopedAdmin):
    """Officers see the workers whose current membership lies in their subtrees."""

    list_display = ("real_name", "phone", "employer", "position", "activated_at", "is_active")
    search_fields = ("real_name", "phone")
    fields = ("phone", "real_name", "employer", "position", "province", "city", "activated_at")
    readonly_fields = ("phone", "activated_at")
    list_select_related = ("province", "city")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return qs
        in_scope = Membership.objects.filter(
            scope_q(self._paths(request), field="organization__path"),
            user=OuterRef("pk"),
            left_at__isnull=True,
        )
        return qs.filter(Exists(in_scope))

    def _allowed(self, request: HttpRequest, obj: Model | None) -> bool:
        if request.user.is_superuser:
            return True
        paths = self._paths(request)
        if not paths:
            return False
        if obj is None:
            return True
        current = (
            Membership.objects.select_related("organization")
            .filter(user_id=obj.pk, left_at__isnull=True)
            .first()
        )
        return current is not None and path_in_scope(path=current.organization.path, paths=paths)


@admin.register(MembershipInvitation, site=saidao_admin)
class MembershipInvitationAdmin(ScopedAdmin):
    """Invitations from a subtree's roster imports: the invitee alone accepts or declines."""

    list_display = ("user", "organization", "status", "invited_by", "created_at", "decided_at")
    list_filter = ("status",)
    list_select_related = ("user", "organization", "invited_by")
    readonly_fields = ("user", "organization", "status", "invited_by", "decided_at")
    officer_can_change = False
