from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, InvalidInput


class ParentNotApproved(InvalidInput):
    code = "parent_not_approved"
    default_message = _("上级工会尚未通过审批，暂不能在其下登记组织。")


class TreeCycle(InvalidInput):
    code = "tree_cycle"
    default_message = _("不能把组织移到它自己或它的下级组织之下。")


class AlreadyDecided(Conflict):
    code = "already_decided"
    default_message = _("该申请已经审批过了。")


class InviteCodeInvalid(InvalidInput):
    code = "invite_code_invalid"
    default_message = _("邀请码不存在，请核对后重新输入。")


class InviteCodeExpired(InvalidInput):
    code = "invite_code_expired"
    default_message = _("邀请码已过期，请向工会索取新的邀请码。")


class InviteCodeRevoked(InvalidInput):
    code = "invite_code_revoked"
    default_message = _("邀请码已作废，请向工会索取新的邀请码。")
