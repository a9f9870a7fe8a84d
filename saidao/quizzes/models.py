"""Knowledge contests (知识竞赛): question banks, contests, attempts and counted results.

A question's content is frozen in versions: an attempt's paper points at the versions it drew, so
editing a question that has been drawn makes a new version and old papers keep theirs. Option
letters on a paper are the displayed ones; ``AttemptItem.order`` maps them to the version's
options, and answers are stored against the version's letters.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from saidao.campaigns.models import Campaign
from saidao.core.models import TimeStampedModel
from saidao.orgs.models import Organization
from saidao.regions.models import Region

LETTERS = "ABCDEF"
MAX_OPTIONS = len(LETTERS)


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("单选")
    MULTIPLE = "multiple", _("多选")
    TRUE_FALSE = "true_false", _("判断")


class Difficulty(models.TextChoices):
    EASY = "easy", _("容易")
    MEDIUM = "medium", _("中等")
    HARD = "hard", _("困难")


class Question(TimeStampedModel):
    """A question of an organization's bank (题库); its content is the current version's."""

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属组织"),
        on_delete=models.PROTECT,
        related_name="quiz_questions",
    )
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    stem = models.TextField(_("题干"))
    options = models.JSONField(_("选项"), default=list)  # option texts, A first
    answer = models.CharField(_("答案"), max_length=MAX_OPTIONS)  # letters, sorted, e.g. "AC"
    category = models.CharField(_("分类"), max_length=40, blank=True)
    difficulty = models.CharField(
        _("难度"), max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    explanation = models.TextField(_("解析"), blank=True)
    source = models.CharField(_("出处"), max_length=200, blank=True)
    # A normalized digest of kind + stem, to refuse duplicates within a bank.
    fingerprint = models.CharField(max_length=64, editable=False)
    current_version = models.ForeignKey(
        "QuestionVersion",
        verbose_name=_("当前版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    times_used = models.PositiveIntegerField(_("被抽中次数"), default=0)
    archived_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["organization", "category", "id"]
        verbose_name = _("题目")
        verbose_name_plural = _("题目")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fingerprint"],
                condition=Q(archived_at__isnull=True),
                name="question_unique_in_bank",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=QuestionKind.values), name="question_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(difficulty__in=Difficulty.values), name="question_difficulty_valid"
            ),
        ]
        indexes = [
            # A draw reads a rule's candidates whole (``caches.pool``); leaving times_used
            # out of the index keeps a start's 20 counter updates off it.
            models.Index(fields=["organization", "category", "difficulty"], name="question_draw"),
        ]

    def __str__(self) -> str:
        return self.stem[:40]


class QuestionVersion(models.Model):
    """A frozen copy of a question's content, as drawn into papers."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    kind = models.CharField(_("题型"), max_length=16, choices=QuestionKind.choices)
    stem = models.TextField(_("题干"))
    options = models.JSONField(_("选项"), default=list)
    answer = models.CharField(_("答案"), max_length=MAX_OPTIONS)
    explanation = models.TextField(_("解析"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["question", "number"]
        verbose_name = _("题目版本")
        verbose_name_plural = _("题目版本")
        constraints = [
            models.UniqueConstraint(fields=["question", "number"], name="question_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} v{self.number}"


class Contest(TimeStampedModel):
    """A contest in a campaign's quiz phase: the paper's rules, timing, tries and scoring."""

    class Counted(models.TextChoices):
        BEST = "best", _("最好成绩")
        LAST = "last", _("最后一次")
        FIRST = "first", _("第一次")

    class PartialCredit(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("全对才得分")
        PROPORTIONAL = "proportional", _("少选按比例得分，错选不得分")

    class Reveal(models.TextChoices):
        AFTER_SUBMIT = "after_submit", _("交卷后")
        AFTER_CLOSE = "after_close", _("答题环节结束后")
        NEVER = "never", _("不公布")

    class CertificateRule(models.TextChoices):
        NONE = "none", _("不发证书")
        FINISHED = "finished", _("完成答题即发")
        PASSED = "passed", _("及格才发")

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="contests"
    )
    bank = models.ForeignKey(
        Organization,
        verbose_name=_("题库所属组织"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("竞赛规则说明"), blank=True)
    time_limit_s = models.PositiveIntegerField(_("答题时限（秒）"), default=600)
    grace_s = models.PositiveIntegerField(_("交卷宽限（秒）"), default=30)
    tries_per_day = models.PositiveSmallIntegerField(_("每天可答次数"), default=3)
    counted = models.CharField(
        _("计分方式"), max_length=8, choices=Counted.choices, default=Counted.BEST
    )
    pass_score = models.PositiveIntegerField(_("及格分"), default=60)
    partial_credit = models.CharField(
        _("多选题计分"),
        max_length=16,
        choices=PartialCredit.choices,
        default=PartialCredit.ALL_OR_NOTHING,
    )
    reveal = models.CharField(
        _("公布答案和解析"), max_length=16, choices=Reveal.choices, default=Reveal.AFTER_SUBMIT
    )
    certificate = models.CharField(
        _("证书"), max_length=8, choices=CertificateRule.choices, default=CertificateRule.PASSED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("知识竞赛")
        verbose_name_plural = _("知识竞赛")
        constraints = [
            models.CheckConstraint(condition=Q(time_limit_s__gte=10), name="contest_time_limit"),
            models.CheckConstraint(
                condition=Q(tries_per_day__gte=1), name="contest_tries_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def max_score(self) -> int:
        return sum(r.count * r.points for r in self.rules.all())


class PaperRule(models.Model):
    """How many questions of a category and difficulty a paper draws, and their points each.

    A blank category or difficulty matches any.
    """

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveSmallIntegerField(_("序号"))
    category = models.CharField(_("分类"), max_length=40, blank=True)
    difficulty = models.CharField(_("难度"), max_length=8, choices=Difficulty.choices, blank=True)
    count = models.PositiveSmallIntegerField(_("题数"))
    points = models.PositiveSmallIntegerField(_("每题分值"))

    class Meta:
        ordering = ["contest", "position"]
        verbose_name = _("组卷规则")
        verbose_name_plural = _("组卷规则")
        constraints = [
            models.UniqueConstraint(fields=["contest", "position"], name="paper_rule_position"),
            models.CheckConstraint(condition=Q(count__gte=1), name="paper_rule_count_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category or '*'}/{self.difficulty or '*'} × {self.count}"


class Attempt(TimeStampedModel):
    """One try at a contest: the paper drawn at its start, the server's deadline, the score."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", _("答题中")
        SUBMITTED = "submitted", _("已交卷")
        TIMED_OUT = "timed_out", _("超时自动交卷")

    # Indexed by the front of attempt_try_unique; an index of its own only slowed each start.
    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="+"
    )
    zone_city = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    day = models.DateField(_("答题日期"))  # Asia/Shanghai
    try_number = models.PositiveSmallIntegerField(_("当天第几次"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.IN_PROGRESS
    )
    started_at = models.DateTimeField(_("开始时间"))
    deadline = models.DateTimeField(_("截止时间"))
    finished_at = models.DateTimeField(_("交卷时间"), null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(_("用时（毫秒）"), null=True, blank=True)
    score = models.PositiveIntegerField(_("得分"), default=0)
    max_score = models.PositiveIntegerField(_("满分"), default=0)
    passed = models.BooleanField(_("及格"), default=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("答题记录")
        verbose_name_plural = _("答题记录")
        constraints = [
            # The tries-per-day limit holds under concurrent starts.
            models.UniqueConstraint(
                fields=["contest", "worker", "day", "try_number"], name="attempt_try_unique"
            ),
            models.UniqueConstraint(
                fields=["contest", "worker"],
                condition=Q(status="in_progress"),
                name="attempt_one_in_progress",
            ),
            models.CheckConstraint(
                condition=Q(deadline__gt=F("started_at")), name="attempt_deadline_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status="in_progress") | Q(finished_at__isnull=False),
                name="attempt_finished_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="attempt_open_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.contest_id}/{self.worker_id} #{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status != self.Status.IN_PROGRESS


class AttemptItem(models.Model):
    """A question on a paper: the version drawn, its option order, the answer given."""

    # Indexed by the front of attempt_item_position; an index of its own only slowed each start.
    attempt = models.ForeignKey(
        Attempt, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    position = models.PositiveSmallIntegerField(_("题号"))
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    # order[i] is the index in version.options shown under the i-th displayed letter.
    order = models.JSONField(default=list)
    points = models.PositiveSmallIntegerField(_("分值"))
    response = models.CharField(_("作答"), max_length=MAX_OPTIONS, blank=True)  # version letters
    answered_at = models.DateTimeField(null=True, blank=True)
    awarded = models.PositiveSmallIntegerField(_("得分"), default=0)
    # The sequence number of the save that wrote this answer. The attempt's last accepted
    # number is the largest of its items': a save then writes one row in one statement.
    seq = models.PositiveIntegerField(_("序号"), default=0)

    class Meta:
        ordering = ["attempt", "position"]
        verbose_name = _("试卷题目")
        verbose_name_plural = _("试卷题目")
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="attempt_item_position"),
            models.UniqueConstraint(fields=["attempt", "version"], name="attempt_item_version"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}:{self.position}"


class ContestResult(TimeStampedModel):
    """A worker's counted result in a contest, kept current as attempts finish.

    ``org_path`` copies the organization's materialized path so rankings of a subtree are one
    indexed query.
    """

    contest = models.ForeignKey(Contest, on_delete=models.CASCADE, related_name="results")
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255)
    zone_city = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveIntegerField(_("成绩"))
    elapsed_ms = models.PositiveIntegerField(_("用时（毫秒）"))
    finished_at = models.DateTimeField(_("交卷时间"))
    passed = models.BooleanField(_("及格"), default=False)
    tries = models.PositiveIntegerField(_("答题次数"), default=1)

    class Meta:
        ordering = ["contest", "-score", "elapsed_ms", "finished_at", "id"]
        verbose_name = _("竞赛成绩")
        verbose_name_plural = _("竞赛成绩")
        constraints = [
            models.UniqueConstraint(fields=["contest", "worker"], name="contest_result_unique"),
        ]
        indexes = [
            models.Index(
                fields=["contest", "-score", "elapsed_ms", "finished_at"],
                name="contest_result_rank",
            ),
            models.Index(fields=["contest", "org_path"], name="contest_result_path"),
        ]

    def __str__(self) -> str:
        return f"{self.contest_id}/{self.worker_id}: {self.score}"
