from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saidao.core.models import TimeStampedModel
from saidao.regions.models import Region

from .validators import CREDIT_CODE_REGEX, validate_credit_code

# Materialized path: each level adds one fixed-width base-36 segment, so a subtree is one
# prefix query on an indexed column and the ancestors are the path's own prefixes.
PATH_STEP = 5
PATH_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


class Organization(TimeStampedModel):
    """A union organization (工会组织) in the national tree."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("全国")
        PROVINCIAL = "provincial", _("省级")
        CITY = "city", _("市级")
        COUNTY = "county", _("县级")
        TOWNSHIP = "township", _("乡镇（街道）")
        GRASSROOTS = "grassroots", _("基层")

    class Kind(models.TextChoices):
        FEDERATION = "federation", _("总工会 / 工会联合会")
        ENTERPRISE = "enterprise", _("企业工会")
        INDUSTRY = "industry", _("行业工会")
        REGIONAL = "regional", _("区域工会")
        NEW_EMPLOYMENT = "new_employment", _("新就业形态工会")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级工会"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Unique, so indexed: Django adds a varchar_pattern_ops twin on PostgreSQL for LIKE 'p%'.
    path = models.CharField(_("树路径"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("深度"), editable=False)
    child_seq = models.PositiveIntegerField(default=0, editable=False)
    region = models.ForeignKey(
        Region, verbose_name=_("所在地区"), on_delete=models.PROTECT, related_name="+"
    )
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=20)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    rejection_reason = models.TextField(_("驳回理由"), blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)

    class Meta:
        ordering = ["path"]
        verbose_name = _("工会组织")
        verbose_name_plural = _("工会组织")
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_code__regex=CREDIT_CODE_REGEX), name="org_credit_code_format"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=0) | Q(parent__isnull=False, depth__gt=0),
                name="org_root_has_depth_zero",
            ),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(rejection_reason=""),
                name="org_rejection_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["parent", "status"], name="org_parent_status"),
            models.Index(fields=["level", "status"], name="org_level_status"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    def ancestor_paths(self) -> list[str]:
        """The paths of every ancestor, root first (not including this organization)."""
        return [self.path[:i] for i in range(PATH_STEP, len(self.path), PATH_STEP)]


class Role(TimeStampedModel):
    """A user's role in an organization; it reaches the whole subtree below it."""

    class Kind(models.TextChoices):
        OFFICER = "officer", _("工会干部")
        REVIEWER = "reviewer", _("审核员")
        REPORTER = "reporter", _("填报员")
        ASSESSOR = "assessor", _("考核员")
        JUDGE = "judge", _("评委")

    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="roles",
    )
    kind = models.CharField(_("角色"), max_length=16, choices=Kind.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("任命人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Empty while the appointee has not accepted: an appointment to somebody who is not a
    # member of the organization's subtree waits for their consent and grants nothing until then.
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True, default=timezone.now)

    class Meta:
        ordering = ["organization__path", "kind", "id"]
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "kind"], name="role_unique_per_org_user_kind"
            ),
        ]
        indexes = [models.Index(fields=["user", "kind"], name="role_user_kind")]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_kind_display()}"


class InviteCode(TimeStampedModel):
    """A code (and QR code) with which workers join an organization."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="invite_codes"
    )
    code = models.CharField(_("邀请码"), max_length=16, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("使用次数"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("邀请码")
        verbose_name_plural = _("邀请码")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z0-9]{6,16}$"), name="invite_code_format"
            ),
        ]

    def __str__(self) -> str:
        return self.code
