from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saidao.accounts.models import User
from saidao.core.errors import SaidaoError
from saidao.orgs.admin import ScopedAdmin, saidao_admin

from .models import Certificate
from .services import certificate_revoke


@admin.register(Certificate, site=saidao_admin)
class CertificateAdmin(ScopedAdmin):
    """Certificates issued in the officer's subtree; read-only but for the audited revoke."""

    scope_path = "issuer__path"
    list_display = ("code", "holder_name", "title", "event_name", "issuer", "issued_on", "state")
    list_filter = ("kind", "issued_on", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("code", "holder_name", "title", "event_name")
    list_select_related = ("issuer",)
    date_hierarchy = "issued_on"
    actions = ("revoke",)
    fields = (
        "code",
        "kind",
        "holder",
        "holder_name",
        "title",
        "event_name",
        "issuer",
        "issued_on",
        "details",
        "source",
        "links",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("状态"))
    def state(self, obj: Certificate) -> str:
        return _("已撤销") if obj.is_revoked else _("有效")

    @admin.display(description=gettext_lazy("文件"))
    def links(self, obj: Certificate) -> str:
        return format_html(
            '<a href="{}">PNG</a> · <a href="{}">PDF</a> · <a href="{}">{}</a>',
            reverse("certificates:png", args=[obj.code]),
            reverse("certificates:pdf", args=[obj.code]),
            reverse("certificates:verify", args=[obj.code]),
            _("验证页"),
        )

    @admin.action(description=gettext_lazy("撤销所选证书"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> HttpResponse | None:
        """Asks for the reason on a second page, then revokes each one through the service."""
        reason = request.POST.get("reason", "").strip()
        if "apply" not in request.POST or not reason:
            context: dict[str, Any] = {
                **self.admin_site.each_context(request),
                "title": _("撤销证书"),
                "certificates": queryset,
                "opts": self.model._meta,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "missing_reason": "apply" in request.POST,
            }
            return TemplateResponse(request, "certificates/admin_revoke.html", context)
        assert isinstance(request.user, User)
        done = 0
        for cert in queryset:
            if cert.is_revoked:
                continue
            try:
                certificate_revoke(certificate=cert, actor=request.user, reason=reason)
            except SaidaoError as exc:
                self.message_user(request, f"{cert.code}: {exc.message}", messages.ERROR)
                continue
            done += 1
        self.message_user(request, _("已撤销 %(n)d 张证书。") % {"n": done}, messages.SUCCESS)
        return None
