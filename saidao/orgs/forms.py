"""Forms only parse input; every rule lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from saidao.regions.models import Region

from .models import Organization


class RegisterForm(forms.Form):
    parent = forms.IntegerField(
        label=_("上级工会"),
        widget=forms.Select(choices=[("", _("请先搜索上级工会"))]),
        error_messages={"required": _("请选择上级工会。"), "invalid": _("请选择上级工会。")},
    )
    name = forms.CharField(label=_("组织名称"), max_length=100)
    level = forms.ChoiceField(label=_("层级"), choices=Organization.Level.choices)
    kind = forms.ChoiceField(label=_("类型"), choices=Organization.Kind.choices)
    region = forms.CharField(
        label=_("所在地区代码"),
        max_length=6,
        help_text=_("6 位行政区划代码，例如定西市安定区为 621102。"),
    )
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=24)
    contact_name = forms.CharField(label=_("联系人"), max_length=50)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20)

    def __init__(
        self, *args: Any, parent_choices: list[tuple[Any, str]] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["level"].initial = Organization.Level.GRASSROOTS
        if parent_choices:
            self.fields["parent"].widget = forms.Select(choices=parent_choices)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("驳回理由"), widget=forms.Textarea(attrs={"rows": 2}))


class InviteForm(forms.Form):
    expires_at = forms.DateTimeField(
        label=_("过期时间（可不填）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


def region_or_none(code: str) -> Region | None:
    return Region.objects.filter(code=code.strip()).first()
