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
    voids = models.ForeignKey(
        "self",
        verbose_name=_("作废的参与"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="voided_by",
    )
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


ALL = "all"  # the tally kind that counts a worker once whatever they did
TALLY_KINDS = (ParticipationEvent.Kind.ENTRY.value, ParticipationEvent.Kind.QUIZ.value, ALL)


class Participant(models.Model):
    """A worker counted once in a campaign for a kind (entry, quiz, or all), at the organization
    and zone of their first participation, wherever they move later.

    The aggregator inserts these by the hundred thousand and each index costs on every insert:
    the campaign leads the unique constraint, and zones and first events are never looked up on
    their own (regions and events are not deleted), so those foreign keys have no index."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    zone_province = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    zone_city = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    first_event = models.ForeignKey(
        ParticipationEvent, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    voided = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "worker", "kind"], name="participant_once_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.kind} @ {self.campaign_id}"


class OrgTally(models.Model):
    """Distinct participants of one organization: in its own membership and in its subtree.

    Written only by the aggregator, with ``n = n + excluded.n`` upserts. ``reached_at`` is when
    the count last changed: of two organizations with the same count, the earlier ranks first.
    The campaign has no index of its own (it leads the unique constraint): on PostgreSQL every
    count change writes a new entry in each index.
    """

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    own = models.IntegerField(default=0)
    subtree = models.IntegerField(default=0)
    reached_at = models.DateTimeField()

    class Meta:
        ordering = ["-subtree", "reached_at", "organization_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organization", "kind"], name="org_tally_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "kind", "subtree"], name="org_tally_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.kind}: {self.subtree}"


class ZoneTally(models.Model):
    """Distinct participants counted in a zone: a province, or a prefecture-level city."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)
    n = models.IntegerField(default=0)
    reached_at = models.DateTimeField()

    class Meta:
        ordering = ["-n", "reached_at", "region_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "region", "kind"], name="zone_tally_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.kind}: {self.n}"


class Watermark(models.Model):
    """How far the aggregator has read the event log, moved in the same transaction as the
    counts. ``gaps`` are ids below ``last_id`` not yet seen (a writer that had not committed),
    with the time each was first missed."""

    name = models.CharField(max_length=32, unique=True)
    last_id = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}@{self.last_id}"


class RankEpoch(models.Model):
    """A counter bumped whenever tallies or member counts change outside the aggregator's
    flushes (an officer's member refresh, ``reconcile --repair``, ``rebuild-ranks``): a rank
    index that loaded a campaign at another epoch reloads it on its next read, in any process.
    ``key`` is ``all`` (every campaign) or ``c:<campaign id>``."""

    key = models.CharField(max_length=32, unique=True)
    n = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}#{self.n}"


class MemberSnapshot(models.Model):
    """An organization's member count frozen for a campaign, the denominator of its rate."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    own = models.IntegerField(default=0)
    subtree = models.IntegerField(default=0)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["campaign", "organization"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organization"], name="member_snapshot_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(subtree__gte=models.F("own")), name="snapshot_subtree_ge_own"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.subtree}"


class ScreenLink(models.Model):
    """A signed, revocable, read-only link to a campaign's big screen for one organization's
    subtree, for wall screens that cannot log in. Only the token's SHA-256 is stored; the token
    itself is shown once, in the link."""

    token_hash = models.CharField(max_length=64, unique=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    label = models.CharField(_("用途说明"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("大屏只读链接")
        verbose_name_plural = _("大屏只读链接")

    def __str__(self) -> str:
        return f"{self.organization_id} @ {self.campaign_id}"
