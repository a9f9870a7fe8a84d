from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from saidao.accounts.phones import mask_phone
from saidao.campaigns.models import Campaign, Theme
from saidao.core.models import TimeStampedModel
from saidao.orgs.models import Organization
from saidao.regions.models import Region
from saidao.uploads.models import Upload


class Entry(TimeStampedModel):
    """A worker's video entry (作品) in a campaign, counted in its zone (赛区).

    ``slot`` numbers the worker's entries in the campaign from 1 to the campaign's limit; the
    unique constraint on it makes the per-worker limit hold under concurrent submits. An invalid
    entry gives its slot back, so the worker may try again.
    """

    class Status(models.TextChoices):
        UPLOADING = "uploading", _("上传中")
        RECEIVED = "received", _("已接收")
        PROCESSING = "processing", _("处理中")
        PENDING_REVIEW = "pending_review", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("未通过")
        INVALID = "invalid", _("文件不合格")
        FAILED = "failed", _("处理失败")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("活动"), on_delete=models.PROTECT, related_name="entries"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作者"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    slot = models.PositiveSmallIntegerField(null=True, blank=True)
    organization = models.ForeignKey(
        Organization, verbose_name=_("所属工会"), on_delete=models.PROTECT, related_name="entries"
    )
    zone_province = models.ForeignKey(
        Region, verbose_name=_("省级赛区"), on_delete=models.PROTECT, related_name="+"
    )
    zone_city = models.ForeignKey(
        Region, verbose_name=_("市级赛区"), on_delete=models.PROTECT, related_name="+"
    )
    theme = models.ForeignKey(
        Theme, verbose_name=_("主题"), null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField(_("作品标题"), max_length=60, blank=True)
    description = models.TextField(_("作品简介"), max_length=500, blank=True)
    real_name = models.CharField(_("真实姓名"), max_length=50, blank=True)
    mobile = models.CharField(_("手机号"), max_length=20, blank=True)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    position = models.CharField(_("岗位"), max_length=50, blank=True)
    consent_publish = models.BooleanField(_("同意公开展示本人肖像和声音"))
    consent_at = models.DateTimeField(_("同意时间"))
    upload = models.OneToOneField(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="entry"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.UPLOADING
    )
    rejection_reason = models.CharField(_("未通过理由"), max_length=200, blank=True)
    invalid_code = models.CharField(_("不合格代码"), max_length=32, blank=True)
    invalid_message = models.CharField(_("不合格说明"), max_length=200, blank=True)
    duration_s = models.FloatField(_("时长（秒）"), null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    video = models.FileField(_("视频"), upload_to="entries/video/", blank=True)
    poster = models.FileField(_("封面帧"), upload_to="entries/poster/", blank=True)
    attempts = models.PositiveSmallIntegerField(_("处理次数"), default=0)
    likes_count = models.PositiveIntegerField(_("点赞数"), default=0)
    # Open (unresolved) reports that count toward hiding; a review resolves them and resets it.
    reports_count = models.PositiveIntegerField(_("计入隐藏的待处理举报数"), default=0)
    hidden = models.BooleanField(_("因举报暂时隐藏"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("作品")
        verbose_name_plural = _("作品")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "worker", "slot"],
                condition=Q(slot__isnull=False),
                name="entry_slot_per_worker",
            ),
            models.CheckConstraint(condition=Q(consent_publish=True), name="entry_has_consent"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="entry_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="invalid") | ~Q(invalid_code=""),
                name="entry_invalid_has_code",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "hidden"], name="entry_campaign_status"),
            models.Index(fields=["campaign", "zone_city", "status"], name="entry_campaign_zone"),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.APPROVED and not self.hidden


class Like(models.Model):
    """One like per signed-in worker per entry."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="likes")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("点赞")
        verbose_name_plural = _("点赞")
        constraints = [
            models.UniqueConstraint(fields=["entry", "worker"], name="like_once_per_worker"),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} ♥ {self.entry_id}"


class Report(models.Model):
    """A member's report of a public entry; enough counting ones hide it until re-review.

    ``counted`` is decided when the report is made: only accounts old enough count toward
    hiding, so fresh sign-ups cannot take an entry down. The others are kept for the reviewers.
    """

    class Reason(models.TextChoices):
        INAPPROPRIATE = "inappropriate", _("内容不当")
        INFRINGES = "infringes", _("侵犯他人权益")
        NOT_WORKER_STORY = "not_worker_story", _("不是职工本人的故事")
        OTHER = "other", _("其他")

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.CharField(_("举报理由"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("补充说明"), max_length=200, blank=True)
    counted = models.BooleanField(_("计入隐藏"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("举报")
        verbose_name_plural = _("举报")
        constraints = [
            models.UniqueConstraint(fields=["entry", "reporter"], name="report_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.entry_id}"

    @property
    def reporter_phone_masked(self) -> str:
        """The reporter's phone as reviewers see it: never in full."""
        return mask_phone(self.reporter.phone)
