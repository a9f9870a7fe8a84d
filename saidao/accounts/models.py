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
    # The organization whose officer created the account from a roster, if one did: its officers
    # may hand the account its first code until the owner activates or reclaims it.
    created_by_organization = models.ForeignKey(
        Organization,
        verbose_name=_("导入组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
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
    user_agent = models.CharField(_("设备"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"token {self.pk}"


class LoginThrottle(models.Model):
    """Failed attempts under one key: a number from one address, an address, or a number.

    Each key earns a delay that grows with its failures; no key alone locks an account.
    """

    key = models.CharField(max_length=120, unique=True)
    failures = models.PositiveIntegerField(default=0)
    blocked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class UserSession(models.Model):
    """A signed-in browser, so that its owner can see it and sign it out from elsewhere."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    user_agent = models.CharField(_("设备"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")

    def __str__(self) -> str:
        return f"session {self.pk}"


class MembershipInvitation(TimeStampedModel):
    """An organization's invitation to an existing account, which joins only if its owner accepts.

    A roster row whose number already has an account becomes one: an officer cannot make
    somebody else's account a member of their subtree, and so cannot gain power over it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        ACCEPTED = "accepted", _("已接受")
        DECLINED = "declined", _("已拒绝")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受邀人"),
        on_delete=models.CASCADE,
        related_name="membership_invitations",
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("邀请人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("入会邀请")
        verbose_name_plural = _("入会邀请")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"],
                condition=Q(status="pending"),
                name="one_pending_invitation_per_org",
            ),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="invitation_decided_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.organization_id} ({self.status})"


class AccountNotice(models.Model):
    """Something done to an account that its holder must hear of: a code issued for it by an
    officer, a password changed, an invitation. Shown at the next sign-in, and sent by SMS
    where SMS is configured."""

    class Kind(models.TextChoices):
        CODE_ISSUED = "code_issued", _("工会干部为您的账号生成了验证码")
        PASSWORD_CHANGED = "password_changed", _("密码已修改")
        ACCOUNT_RECLAIMED = "account_reclaimed", _("账号已通过短信找回")
        MEMBERSHIP_INVITED = "membership_invited", _("入会邀请")
        ROLE_INVITED = "role_invited", _("职务任命待确认")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account_notices"
    )
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)
    sent_by_sms = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("账号提醒")
        verbose_name_plural = _("账号提醒")
        indexes = [models.Index(fields=["user", "seen_at"], name="notice_user_unseen")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.kind}"


class PhoneCode(models.Model):
    """A code sent by SMS to prove that whoever types it holds the number.

    Not tied to an account: sign-up has none yet, and asking for a code must not tell whether
    the number has one. Only the hash is kept.
    """

    class Purpose(models.TextChoices):
        SIGNUP = "signup", _("注册")
        RESET = "reset", _("找回账号 / 重置密码")

    phone = models.CharField(max_length=32)
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["phone", "purpose", "created_at"], name="phonecode_phone"),
            models.Index(fields=["ip_address", "created_at"], name="phonecode_ip"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="phonecode_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{mask_phone(self.phone)} · {self.purpose}"
