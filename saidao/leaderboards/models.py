from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from saidao.campaigns.models import Campaign
from saidao.orgs.models import Organization
from saidao.regions.models import Region


class ParticipationEvent(models.Model):
    """An append-only record that a worker took part in a campaign (never updated or deleted).

    ``key`` makes recording idempotent: the same entry or attempt recorded twice is one event.
    """

    class Kind(models.TextChoices):
        ENTRY = "entry", _("作品")
        QUIZ = "quiz", _("答题")

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    zone_province = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    zone_city = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    value = models.IntegerField(_("数值"), default=1)
    key = models.CharField(_("幂等键"), max_length=128, unique=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("参与记录")
        verbose_name_plural = _("参与记录")
        indexes = [
            models.Index(fields=["campaign", "kind"], name="participation_campaign_kind"),
            models.Index(fields=["campaign", "worker"], name="participation_campaign_worker"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.worker_id} @ {self.campaign_id}"
