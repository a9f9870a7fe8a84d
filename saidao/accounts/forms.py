"""Forms only parse input; every rule lives in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saidao.regions.forms import RegionFieldsMixin


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

    def __init__(self, *args: Any, sms_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if sms_code:  # where SMS is configured the number is proven with a code
            self.fields["sms_code"] = forms.CharField(
                label=_("短信验证码"),
                max_length=6,
                required=False,
                widget=forms.TextInput(
                    attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}
                ),
            )
            self.order_fields(["phone", "sms_code", *self.field_order[1:]])

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


class RecoverForm(forms.Form):
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "numeric"}
        ),
    )
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    consent = forms.BooleanField(label=_("我已阅读并同意隐私政策"), required=False)

    def consent_version(self) -> str:
        return settings.SAIDAO_PRIVACY_NOTICE_VERSION if self.cleaned_data.get("consent") else ""


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("当前密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("新密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 8 位，不能全是数字。修改后，其他设备将退出登录。"),
    )
