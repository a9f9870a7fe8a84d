from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from saidao.core.models import TimeStampedModel
from saidao.orgs.models import Organization

# The registration fields a campaign's entry form may ask for, in display order.
ENTRY_FORM_FIELDS: dict[str, Any] = {
    "real_name": _("真实姓名"),
    "mobile": _("手机号"),
    "employer": _("工作单位"),
    "position": _("岗位"),
    "organization": _("所属工会组织"),
    "province": _("省份"),
    "city": _("地级市"),
    "theme": _("主题"),
    "title": _("作品标题"),
    "description": _("作品简介"),
}
ASKED_REQUIRED, ASKED_OPTIONAL, NOT_ASKED = "required", "optional", "hidden"


def default_entry_form() -> dict[str, str]:
    """Every field asked and required except the short description, which is optional."""
    form = dict.fromkeys(ENTRY_FORM_FIELDS, ASKED_REQUIRED)
    form["description"] = ASKED_OPTIONAL
    return form


class Campaign(TimeStampedModel):
    """A union campaign (活动), run by an organizer for the members of its subtree."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")

    organizer = models.ForeignKey(
        Organization, verbose_name=_("主办组织"), on_delete=models.PROTECT, related_name="campaigns"
    )
    slug = models.SlugField(_("网址标识"), max_length=64, unique=True)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("简介"), blank=True)
    cover = models.FileField(_("封面"), upload_to="campaigns/covers/", blank=True)
    rules = models.TextField(_("活动规则"), blank=True)
    entry_form = models.JSONField(_("报名表设置"), default=default_entry_form)
    entries_per_worker = models.PositiveSmallIntegerField(_("每人可提交作品数"), default=1)
    max_video_seconds = models.PositiveIntegerField(_("视频最长秒数"), default=120)
    max_file_mb = models.PositiveIntegerField(_("文件最大 MB"), default=500)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        constraints = [
            models.CheckConstraint(
                condition=Q(entries_per_worker__gte=1), name="campaign_entries_per_worker_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_video_seconds__gte=1), name="campaign_max_video_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_file_mb__gte=1), name="campaign_max_file_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024


class Theme(models.Model):
    """One of a campaign's themes (主题), in order."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="themes")
    position = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("主题"), max_length=200)

    class Meta:
        ordering = ["campaign", "position"]
        verbose_name = _("主题")
        verbose_name_plural = _("主题")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="theme_position_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class Phase(TimeStampedModel):
    """A dated phase (阶段) in Asia/Shanghai time; phases may overlap.

    A switch (entries, likes, quiz) is on when any phase open at that moment sets it. A phase is
    open between ``starts_at`` (inclusive) and ``ends_at`` (exclusive) unless an officer has
    overridden it open or closed.
    """

    class Kind(models.TextChoices):
        MOBILIZATION = "mobilization", _("宣传动员")
        COLLECTION = "collection", _("作品征集")
        SHOWCASE = "showcase", _("展示宣传")
        QUIZ = "quiz", _("知识竞赛")
        CLOSED = "closed", _("活动结束")

    class Override(models.TextChoices):
        OPEN = "open", _("强制开启")
        CLOSED = "closed", _("强制关闭")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="phases")
    position = models.PositiveSmallIntegerField(_("序号"))
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("名称"), max_length=60)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    entries_open = models.BooleanField(_("开放投稿"), default=False)
    likes_open = models.BooleanField(_("开放点赞"), default=False)
    quiz_open = models.BooleanField(_("开放答题"), default=False)
    override = models.CharField(
        _("人工调整"), max_length=8, choices=Override.choices, blank=True, default=""
    )
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    override_at = models.DateTimeField(null=True, blank=True)
    override_reason = models.CharField(_("调整理由"), max_length=200, blank=True)

    class Meta:
        ordering = ["campaign", "position"]
        verbose_name = _("阶段")
        verbose_name_plural = _("阶段")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="phase_position_unique"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="phase_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(override="") | Q(override_by__isnull=False),
                name="phase_override_has_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.title}"
