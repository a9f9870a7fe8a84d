from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import SaidaoError


class PhaseClosed(SaidaoError):
    """The action's switch is off now; the message says when it opens or that it has closed."""

    code = "phase_closed"
    status = 403
    default_message = _("该环节当前未开放。")


class OutsideCampaignScope(SaidaoError):
    code = "outside_campaign_scope"
    status = 403
    default_message = _("该活动仅面向主办工会及其下级工会的会员。")


class CampaignNotPublished(SaidaoError):
    code = "campaign_not_published"
    status = 404
    default_message = _("活动不存在或尚未发布。")
