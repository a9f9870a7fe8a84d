from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from saidao.core.models import TimeStampedModel
from saidao.orgs.models import Organization


class Certificate(TimeStampedModel):
    """A certificate (证书) issued by an organization, verifiable by its code.

    The row is the truth: the PNG and PDF are drawn from it (and may be cached), and a revoked
    certificate still verifies as revoked. ``source`` is the idempotency key of the issuing
    event, e.g. ``quiz-attempt:123``.
    """

    class Kind(models.TextChoices):
        CONTEST = "contest", _("知识竞赛证书")
        TITLE = "title", _("荣誉称号证书")

    code = models.CharField(_("验证码"), max_length=16, unique=True, editable=False)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("获证人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    holder_name = models.CharField(_("获证人姓名"), max_length=50)
    title = models.CharField(_("证书名称"), max_length=100)
    event_name = models.CharField(_("活动名称"), max_length=200)
    issuer = models.ForeignKey(
        Organization,
        verbose_name=_("颁发单位"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    issued_on = models.DateField(_("颁发日期"))
    details = models.JSONField(_("证书内容"), default=list, blank=True)
    source = models.CharField(_("来源"), max_length=100, unique=True, editable=False)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销理由"), max_length=200, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""),
                name="certificate_revoked_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["holder", "-issued_on"], name="certificate_holder")]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def detail_pairs(self) -> list[tuple[str, str]]:
        """``details`` as (label, value) pairs, tolerant of a hand-edited row."""
        pairs: list[tuple[str, str]] = []
        for item in self.details or []:
            if isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((str(item[0]), str(item[1])))
        return pairs
