from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saidao.core.models import TimeStampedModel
from saidao.orgs.models import InviteCode, Organization
from saidao.regions.models import Region

from .phones import MOBILE_REGEX, mask_phone


class UserManager(BaseUserManager["User"]):
    def create_user(self, phone: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(phone=phone, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, phone: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("activated_at", timezone.now())
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A worker (职工). Officers are workers who hold an officer role somewhere in the tree."""

    phone = models.CharField(_("手机号"), max_length=32, unique=True)
    real_name = models.CharField(_("姓名"), max_length=50)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    position = models.CharField(_("岗位"), max_length=50, blank=True)
    province = models.ForeignKey(
        Region,
        verbose_name=_("省份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    city = models.ForeignKey(
        Region,
        verbose_name=_("城市"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("有效"), default=True)
    is_staff = models.BooleanField(_("平台管理员"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    activated_at = models.DateTimeField(_("激活时间"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("注销时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS = ["real_name"]

    class Meta:
        ordering = ["id"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=MOBILE_REGEX)
                | Q(phone__startswith="deleted-", deleted_at__isnull=False),
                name="user_phone_is_mobile",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.real_name}（{self.masked_phone}）"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def is_activated(self) -> bool:
        return self.activated_at is not None


class PrivacyConsent(models.Model):
    """A worker's consent to one version of the privacy notice (PIPL), kept as a record."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="privacy_consents"
    )
    version = models.CharField(_("隐私政策版本"), max_length=20)
    accepted_at = models.DateTimeField(_("同意时间"), default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
        verbose_name = _("隐私政策同意记录")
        verbose_name_plural = _("隐私政策同意记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="consent_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.version}"


class Membership(TimeStampedModel):
    """A worker's membership (会员) of an organization; at most one is current."""

    class Source(models.TextChoices):
        INVITE = "invite", _("邀请码入会")
        ROSTER = "roster", _("名册导入")
        DEMO = "demo", _("演示数据")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("会员"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("组织"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    invite_code = models.ForeignKey(
        InviteCode, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    joined_at = models.DateTimeField(_("入会时间"), default=timezone.now)
    left_at = models.DateTimeField(_("离开时间"), null=True, blank=True)

    class Meta:
        ordering = ["-joined_at", "-id"]
        verbose_name = _("会员关系")
        verbose_name_plural = _("会员关系")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(left_at__isnull=True), name="one_current_membership"
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="membership_leaves_after_joining",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "left_at"], name="membership_org_current"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.organization_id}"

    @property
    def is_current(self) -> bool:
        return self.left_at is None


class OneTimeCode(TimeStampedModel):
    """A code an officer hands to a member: to activate an imported account or reset a password."""

    class Purpose(models.TextChoices):
        ACTIVATION = "activation", _("账号激活")
        PASSWORD_RESET = "password_reset", _("重置密码")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="one_time_codes"
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("一次性验证码")
        verbose_name_plural = _("一次性验证码")
        indexes = [models.Index(fields=["user", "purpose"], name="otc_user_purpose")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.purpose}"


class ApiToken(models.Model):
    """A bearer token for the REST API; only its SHA-256 is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"token {self.pk}"


class LoginThrottle(models.Model):
    """Failed log-ins per phone number, for the lock-out after repeated failures."""

    phone = models.CharField(max_length=32, unique=True)
    failures = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phone"]

    def __str__(self) -> str:
        return self.phone
