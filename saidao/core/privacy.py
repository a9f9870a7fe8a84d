"""The privacy notice (PIPL): one text for the page and the API, with its version."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TITLE = _("隐私政策")


@dataclass(frozen=True)
class Section:
    heading: str | Promise
    text: str | Promise


INTRO = _("我们依照《中华人民共和国个人信息保护法》处理您的个人信息。")

SECTIONS = (
    Section(
        _("我们收集什么"),
        _("手机号、真实姓名、工作单位、岗位、所在省份与城市，以及您加入的工会组织。"),
    ),
    Section(
        _("用于什么"),
        _(
            "用于登录、确认会员身份、统计各组织与赛区的参与情况。您的手机号只对您本人和管理"
            "您所在组织的工会干部完整显示，对其他人脱敏显示。"
        ),
    ),
    Section(
        _("工会导入与验证码"),
        _(
            "工会可以用名册为新号码建立待激活账号；已有账号的号码只会收到入会邀请，由您本人"
            "决定是否接受。工会干部为您的账号生成验证码时，您会在下次登录时（开通短信的站点"
            "还会通过短信）收到提醒；您可以随时用短信验证码找回账号，此前干部生成的验证码随即作废。"
        ),
    ),
    Section(
        _("您的权利"),
        _(
            "您可以随时在“我的”页面查看、更正个人信息，查看并退出已登录的设备，或注销账号。"
            "注销后您的个人信息将被删除或匿名化，仅保留不含个人信息的统计数字。"
        ),
    ),
)


def privacy_notice() -> dict[str, object]:
    """The notice in the active language, ready for the page and the API."""
    return {
        "version": settings.SAIDAO_PRIVACY_NOTICE_VERSION,
        "title": str(TITLE),
        "intro": str(INTRO),
        "sections": [{"heading": str(s.heading), "text": str(s.text)} for s in SECTIONS],
    }
