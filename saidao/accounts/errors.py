from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, InvalidInput, SaidaoError


class InvalidCredentials(SaidaoError):
    code = "invalid_credentials"
    status = 401
    default_message = _("手机号或密码不正确。")


class AccountLocked(SaidaoError):
    code = "account_locked"
    status = 429
    default_message = _("密码错误次数过多，账号已暂时锁定，请稍后再试。")


class AccountNotActivated(SaidaoError):
    code = "account_not_activated"
    status = 403
    default_message = _("账号尚未激活，请用工会发给您的激活码激活账号。")


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
