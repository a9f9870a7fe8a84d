from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Base of every Saidao model: when a row was created and last changed."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """Who did what to which record, kept for officers' decisions (approvals, roles, moves...)."""

    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("操作"), max_length=64)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象编号"), max_length=64)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class ImportJob(models.Model):
    """A large spreadsheet import run in the background: the upload waits in default storage
    until the job has read it (then it is deleted), and the page or the API polls the row for
    progress, then the result or every row's errors. Only its creator sees it."""

    class Kind(models.TextChoices):
        ROSTER = "roster", _("会员名册")
        QUESTIONS = "questions", _("题库")
        REPORTS = "reports", _("竞赛填报")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        READING = "reading", _("正在读取")
        SAVING = "saving", _("正在保存")
        DONE = "done", _("已完成")
        FAILED = "failed", _("未导入")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name=_("组织"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    created_by = models.ForeignKey(
        "accounts.User", verbose_name=_("操作人"), on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    # While reading, rows_total is 0 (not known before the end); while saving, the rows to save.
    rows_done = models.PositiveIntegerField(_("已处理行数"), default=0)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    # What the job needs besides the file (the competition, whether to submit, the file's name).
    params = models.JSONField(_("参数"), default=dict, blank=True)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", blank=True, max_length=200)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入任务")
        verbose_name_plural = _("导入任务")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["roster", "questions", "reports"]),
                name="import_job_kind_known",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "reading", "saving", "done", "failed"]),
                name="import_job_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(rows_total=0) | models.Q(rows_done__lte=models.F("rows_total")),
                name="import_job_done_within_total",
            ),
            # Finished exactly when done or failed.
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=["done", "failed"], finished_at__isnull=False)
                    | models.Q(
                        status__in=["pending", "reading", "saving"], finished_at__isnull=True
                    )
                ),
                name="import_job_finished_when_over",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def is_over(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
