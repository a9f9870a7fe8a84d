"""Forms only parse input; every rule lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saidao.regions.models import Region


def province_choices() -> list[tuple[str, str]]:
    provinces = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")
    return [("", str(_("请选择省份")))] + [(r.code, r.name) for r in provinces]


class RegionFieldsMixin(forms.Form):
    province = forms.ChoiceField(label=_("省份"), choices=())
    city = forms.CharField(
        label=_("城市"),
        widget=forms.Select(choices=[("", _("请先选择省份"))]),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province_field = self.fields["province"]
        assert isinstance(province_field, forms.ChoiceField)
        province_field.choices = province_choices()
        province_field.widget.attrs.update(
            {
                "hx-get": "/regions/cities/",
                "hx-target": "#id_city",
                "hx-trigger": "change",
                "hx-include": "this",
            }
        )
        province = self.data.get("province") or self.initial.get("province")
        if province:
            from saidao.regions.selectors import region_cities

            try:
                cities = [("", str(_("请选择城市")))] + [
                    (c.code, c.name) for c in region_cities(province=str(province))
                ]
            except Exception:
                cities = [("", str(_("请先选择省份")))]
            self.fields["city"].widget = forms.Select(choices=cities)


class SignupForm(RegionFieldsMixin):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "numeric"}
        ),
    )
    password = forms.CharField(
        label=_("密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字。"),
    )
    real_name = forms.CharField(label=_("真实姓名"), max_length=50)
    employer = forms.CharField(label=_("工作单位"), max_length=100, required=False)
    position = forms.CharField(label=_("岗位"), max_length=50, required=False)
    consent = forms.BooleanField(
        label=_("我已阅读并同意隐私政策"),
        required=False,
    )
    field_order = [
        "phone",
        "password",
        "real_name",
        "employer",
        "position",
        "province",
        "city",
        "consent",
    ]

    def consent_version(self) -> str:
        return settings.SAIDAO_PRIVACY_NOTICE_VERSION if self.cleaned_data.get("consent") else ""


class LoginForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "username", "inputmode": "numeric"}
        ),
    )
    password = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ProfileForm(RegionFieldsMixin):
    real_name = forms.CharField(label=_("真实姓名"), max_length=50)
    employer = forms.CharField(label=_("工作单位"), max_length=100, required=False)
    position = forms.CharField(label=_("岗位"), max_length=50, required=False)
    field_order = ["real_name", "employer", "position", "province", "city"]


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("邀请码"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )


class ActivateForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    code = forms.CharField(
        label=_("激活码"), max_length=8, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    password = forms.CharField(
        label=_("设置密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    consent = forms.BooleanField(label=_("我已阅读并同意隐私政策"), required=False)

    def consent_version(self) -> str:
        return settings.SAIDAO_PRIVACY_NOTICE_VERSION if self.cleaned_data.get("consent") else ""


class ResetForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"), max_length=20, widget=forms.TextInput(attrs={"type": "tel"})
    )
    code = forms.CharField(
        label=_("重置码"), max_length=8, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class RosterForm(forms.Form):
    file = forms.FileField(label=_("名册文件（.xlsx）"))
