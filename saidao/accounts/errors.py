from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, InvalidInput, SaidaoError


class InvalidCredentials(SaidaoError):
    code = "invalid_credentials"
    status = 401
    # One answer for every refusal: it must not tell whether the number has an account.
    default_message = _("手机号或密码不正确。如果工会为您导入了名册，请先激活账号。")


class AccountLocked(SaidaoError):
    code = "account_locked"
    status = 429
    default_message = _("尝试次数过多，请稍后再试。")


class AlreadyMember(Conflict):
    code = "already_member"
    default_message = _("您已经是该组织的会员了。")


class CodeInvalid(InvalidInput):
    code = "code_invalid"
    default_message = _("验证码不正确或已过期，请向工会重新索取。")


class RosterInvalid(InvalidInput):
    """A roster file with errors; ``detail["errors"]`` lists each with its row and column."""

    code = "roster_invalid"
    default_message = _("名册有错误，未导入任何数据。请按提示修改后重新上传。")


class CodeNotAllowed(SaidaoError):
    """The account is in the officer's view, but its password is not theirs to open."""

    code = "code_not_allowed"
    status = 403
    default_message = _(
        "该账号在您管理的范围以外担任职务、职务不低于您，或不是由本组织导入的，"
        "不能由您生成验证码。请本人通过短信找回账号。"
    )


class PhoneCodeTooSoon(SaidaoError):
    code = "too_many_codes"
    status = 429
    default_message = _("获取验证码过于频繁，请一小时后再试。")


class SmsNotSent(SaidaoError):
    """The provider did not take the message; what it said goes to the log, not the visitor."""

    code = "sms_delivery_failed"
    status = 502
    default_message = _("短信发送失败，请稍后再试。")
