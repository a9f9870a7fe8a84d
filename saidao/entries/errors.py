from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.campaigns.errors import OutsideCampaignScope
from saidao.core.errors import Conflict, NotFound, SaidaoError


class EntryLimitReached(Conflict):
    code = "entry_limit_reached"
    default_message = _("您在本活动中已提交了允许的最多作品数。")


class EntryNotPublic(NotFound):
    code = "entry_not_public"
    default_message = _("作品不存在或尚未公开。")


class AlreadyReported(Conflict):
    code = "already_reported"
    default_message = _("您已经举报过这件作品，我们会尽快复核。")


class NotAMember(OutsideCampaignScope):
    """Liking or reporting needs a current membership of a union in the campaign's scope."""

    code = "not_a_member"
    default_message = _("点赞和举报仅限本活动主办工会及其下级工会的会员。请先加入您所在的工会。")


class EntryNotReviewable(SaidaoError):
    code = "entry_not_reviewable"
    status = 409
    default_message = _("这件作品当前不在待审核状态。")
