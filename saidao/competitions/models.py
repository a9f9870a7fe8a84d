"""Labor competitions (劳动竞赛): program → category → competition → indicators, periods,
participants, reports with their values and evidence, scoring snapshots and outcomes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from saidao.core.models import TimeStampedModel
from saidao.orgs.models import Organization

# Values and points are stored with fixed precision; the engine computes with Decimal and
# quantizes to these places so two runs give the same digits.
VALUE_DIGITS, VALUE_PLACES = 20, 6
POINT_DIGITS, POINT_PLACES = 14, 4
INDICATOR_CODE_REGEX = r"^[A-Za-z_][A-Za-z0-9_]{0,39}$"
# A person's 参赛编码: P and a number given in the order people join the competition, so
# that the code says nothing about who they are (it once was their phone number).
PERSON_CODE_PREFIX = "P"
PERSON_CODE_DIGITS = 5
PERSON_CODE_REGEX = r"^P[0-9]{5,9}$"


def _decimal(
    label: Any, digits: int, places: int, *, null: bool, default: Decimal | None
) -> models.DecimalField:  # type: ignore[type-arg]
    if default is None:
        return models.DecimalField(
            label, max_digits=digits, decimal_places=places, null=null, blank=null
        )
    return models.DecimalField(label, max_digits=digits, decimal_places=places, default=default)


def _value_field(
    label: Any, *, null: bool = False, blank: bool = False, default: Decimal | None = None
) -> models.DecimalField:  # type: ignore[type-arg]
    return _decimal(label, VALUE_DIGITS, VALUE_PLACES, null=null, default=default)


def _points_field(
    label: Any, *, null: bool = False, blank: bool = False, default: Decimal | None = None
) -> models.DecimalField:  # type: ignore[type-arg]
    return _decimal(label, POINT_DIGITS, POINT_PLACES, null=null, default=default)


class Program(TimeStampedModel):
    """A competition program (竞赛项目), e.g. 2024 高质量发展劳动竞赛, of one organization;
    its participants come from that organization's subtree."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("筹备中")
        ACTIVE = "active", _("进行中")
        CLOSED = "closed", _("已结束")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("主办组织"),
        on_delete=models.PROTECT,
        related_name="competition_programs",
    )
    name = models.CharField(_("名称"), max_length=100)
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True)
    description = models.TextField(_("说明"), blank=True)
    total_weight = models.DecimalField(
        _("总权重"), max_digits=8, decimal_places=2, default=Decimal("100")
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-year", "name", "id"]
        verbose_name = _("竞赛项目")
        verbose_name_plural = _("竞赛项目")
        constraints = [
            models.CheckConstraint(
                condition=Q(total_weight__gt=0), name="comp_program_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProgramRole(TimeStampedModel):
    """A reporter (填报员) or assessor (考核员) of a program, with the unit they belong to.

    A reporter reports for the participants inside ``organization``'s subtree; an assessor
    verifies reports, but never those of participants inside their own unit.
    """

    class Kind(models.TextChoices):
        REPORTER = "reporter", _("填报员")
        ASSESSOR = "assessor", _("考核员")

    program = models.ForeignKey(
        Program, verbose_name=_("竞赛项目"), on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="competition_roles",
    )
    kind = models.CharField(_("角色"), max_length=16, choices=Kind.choices)
    organization = models.ForeignKey(
        Organization, verbose_name=_("所在单位"), on_delete=models.PROTECT, related_name="+"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("任命人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["program", "kind", "id"]
        verbose_name = _("竞赛角色")
        verbose_name_plural = _("竞赛角色")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "user", "kind", "organization"],
                name="comp_role_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.get_kind_display()} · {self.user_id}"


class Category(TimeStampedModel):
    """A major category (竞赛大项) of a program, e.g. 安全环保."""

    program = models.ForeignKey(
        Program, verbose_name=_("竞赛项目"), on_delete=models.CASCADE, related_name="categories"
    )
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["program", "position", "id"]
        verbose_name = _("竞赛大项")
        verbose_name_plural = _("竞赛大项")
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="comp_category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Competition(TimeStampedModel):
    """A single competition (单项竞赛): who takes part, how often, how it is scored and
    what the top and bottom of its ranking get."""

    class ParticipantKind(models.TextChoices):
        UNIT = "unit", _("单位")
        INDIVIDUAL = "individual", _("个人")

    class PeriodKind(models.TextChoices):
        MONTH = "month", _("月度")
        QUARTER = "quarter", _("季度")
        YEAR = "year", _("年度")

    class BonusRule(models.TextChoices):
        NONE = "none", _("不设奖金")
        PROPORTIONAL = "proportional", _("按得分比例分配")
        RANK_SHARES = "rank_shares", _("按名次固定比例分配")

    program = models.ForeignKey(
        Program, verbose_name=_("竞赛项目"), on_delete=models.CASCADE, related_name="competitions"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("竞赛大项"), on_delete=models.CASCADE, related_name="competitions"
    )
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("竞赛内容"), blank=True)
    participant_kind = models.CharField(
        _("参赛对象"), max_length=16, choices=ParticipantKind.choices
    )
    period_kind = models.CharField(_("考核周期"), max_length=16, choices=PeriodKind.choices)
    self_score_enabled = models.BooleanField(_("允许自评分"), default=False)
    # Outcomes: the award list is the top N, or the top X%, of each bracket.
    award_top_n = models.PositiveSmallIntegerField(_("奖励前 N 名"), null=True, blank=True)
    award_top_percent = models.PositiveSmallIntegerField(_("奖励前 X%"), null=True, blank=True)
    bonus_pool = models.DecimalField(
        _("奖金池（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    bonus_rule = models.CharField(
        _("奖金分配办法"), max_length=16, choices=BonusRule.choices, default=BonusRule.NONE
    )
    # For RANK_SHARES: percentages of the pool by place, e.g. [50, 30, 20].
    bonus_shares = models.JSONField(_("名次分配比例"), default=list, blank=True)
    help_bottom_n = models.PositiveSmallIntegerField(_("帮扶后 N 名"), default=0)
    title_name = models.CharField(
        _("称号名称"), max_length=50, blank=True, help_text=_("如：最佳降含水标兵")
    )

    class Meta:
        ordering = ["program", "category__position", "position", "id"]
        verbose_name = _("单项竞赛")
        verbose_name_plural = _("单项竞赛")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"], name="comp_competition_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(award_top_percent__isnull=True) | Q(award_top_percent__lte=100),
                name="comp_award_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Bracket(TimeStampedModel):
    """A group of comparable participants (分组), ranked separately."""

    competition = models.ForeignKey(
        Competition, verbose_name=_("单项竞赛"), on_delete=models.CASCADE, related_name="brackets"
    )
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        ordering = ["competition", "position", "id"]
        verbose_name = _("分组")
        verbose_name_plural = _("分组")
        constraints = [
            models.UniqueConstraint(fields=["competition", "name"], name="comp_bracket_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Participant(TimeStampedModel):
    """A unit (an organization in the program's subtree) or an individual (a member) taking
    part in a competition. ``code`` is the 参赛单位编码 of a unit (its credit code unless
    given), or the opaque 参赛人编码 of a person (P00001, P00002, ...; never their phone)."""

    competition = models.ForeignKey(
        Competition,
        verbose_name=_("单项竞赛"),
        on_delete=models.CASCADE,
        related_name="participants",
    )
    bracket = models.ForeignKey(
        Bracket,
        verbose_name=_("分组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participants",
    )
    code = models.CharField(_("参赛编码"), max_length=40)
    name = models.CharField(_("名称"), max_length=100)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("参赛单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="competition_entries",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("参赛人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="competition_entries",
    )
    # The unit an individual belongs to (for scope and the assessor's own-unit check); for a
    # unit participant it is the unit itself.
    home = models.ForeignKey(
        Organization, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+"
    )
    active = models.BooleanField(_("参赛中"), default=True)

    class Meta:
        ordering = ["competition", "code"]
        verbose_name = _("参赛者")
        verbose_name_plural = _("参赛者")
        constraints = [
            models.UniqueConstraint(fields=["competition", "code"], name="comp_participant_code"),
            models.UniqueConstraint(
                fields=["competition", "organization"],
                condition=Q(organization__isnull=False),
                name="comp_participant_org_once",
            ),
            models.UniqueConstraint(
                fields=["competition", "user"],
                condition=Q(user__isnull=False),
                name="comp_participant_user_once",
            ),
            models.CheckConstraint(
                condition=Q(organization__isnull=False, user__isnull=True)
                | Q(organization__isnull=True, user__isnull=False),
                name="comp_participant_unit_or_person",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=True) | Q(code__regex=PERSON_CODE_REGEX),
                name="comp_participant_person_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Period(TimeStampedModel):
    """An assessment period (考核期) such as 2024-Q2: open for reports, closed, or locked."""

    class State(models.TextChoices):
        OPEN = "open", _("填报中")
        CLOSED = "closed", _("已截止")
        LOCKED = "locked", _("已锁定")

    competition = models.ForeignKey(
        Competition, verbose_name=_("单项竞赛"), on_delete=models.CASCADE, related_name="periods"
    )
    key = models.CharField(_("期间"), max_length=16, help_text=_("如 2024-Q2、2024-06、2024"))
    label = models.CharField(_("名称"), max_length=50, help_text=_("如 2024年第二季度"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.OPEN)

    class Meta:
        ordering = ["competition", "starts_on", "id"]
        verbose_name = _("考核期")
        verbose_name_plural = _("考核期")
        constraints = [
            models.UniqueConstraint(fields=["competition", "key"], name="comp_period_unique_key"),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="comp_period_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.label or self.key


class Indicator(TimeStampedModel):
    """An indicator (指标) of a competition: where its value comes from and how it scores.

    Weighted rules (attainment, rank, bands) give points on a scale of ``full_marks``; the
    contribution to the total is ``points × weight ÷ full_marks``, and the weights of a
    competition add up to its program's total weight. Bonus and penalty items add or subtract
    their points directly; a veto item disqualifies the participant for the period.
    """

    class Direction(models.TextChoices):
        HIGHER = "higher", _("越高越好")
        LOWER = "lower", _("越低越好")

    class Source(models.TextChoices):
        REPORTED = "reported", _("填报")
        FORMULA = "formula", _("公式计算")
        COUNT = "count", _("平台数据统计")

    class Rule(models.TextChoices):
        ATTAINMENT = "attainment", _("完成率计分")
        RANK = "rank", _("名次计分")
        BANDS = "bands", _("分档计分")
        BONUS = "bonus", _("加分项")
        PENALTY = "penalty", _("扣分项")
        VETO = "veto", _("一票否决")
        NONE = "none", _("不计分（仅供计算）")

    competition = models.ForeignKey(
        Competition,
        verbose_name=_("单项竞赛"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    position = models.PositiveSmallIntegerField(_("序号"), default=0)
    code = models.CharField(_("代码"), max_length=40, help_text=_("公式中引用的名字，如 actual"))
    name = models.CharField(_("名称"), max_length=100)
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    direction = models.CharField(
        _("方向"), max_length=8, choices=Direction.choices, default=Direction.HIGHER
    )
    source = models.CharField(
        _("数据来源"), max_length=16, choices=Source.choices, default=Source.REPORTED
    )
    formula = models.CharField(_("公式"), max_length=500, blank=True)
    count_source = models.CharField(_("统计口径"), max_length=40, blank=True)
    count_param = models.CharField(_("统计参数"), max_length=100, blank=True)
    required = models.BooleanField(_("必填"), default=True)
    weight = models.DecimalField(_("权重"), max_digits=8, decimal_places=2, default=Decimal(0))
    rule = models.CharField(_("计分规则"), max_length=16, choices=Rule.choices)
    target = _value_field(_("目标值"), null=True, blank=True)
    full_marks = _points_field(_("满分"), default=Decimal(100))
    cap = _points_field(_("封顶分"), null=True, blank=True)
    floor = _points_field(_("保底分"), default=Decimal(0))
    rank_first = _points_field(_("第一名得分"), null=True, blank=True)
    rank_step = _points_field(_("每名次递减"), null=True, blank=True)
    # BANDS: [[threshold, points], ...]: the points of the best threshold the value reaches
    # (at least it when higher is better, at most it when lower is better).
    bands = models.JSONField(_("分档"), default=list, blank=True)
    per_unit = _points_field(_("每单位分值"), null=True, blank=True)
    # VETO: the participant is disqualified when the value reaches this (default 1).
    veto_threshold = _value_field(_("否决阈值"), null=True, blank=True)

    class Meta:
        ordering = ["competition", "position", "id"]
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        constraints = [
            models.UniqueConstraint(fields=["competition", "code"], name="comp_indicator_code"),
            models.UniqueConstraint(fields=["competition", "name"], name="comp_indicator_name"),
            models.CheckConstraint(
                condition=Q(code__regex=INDICATOR_CODE_REGEX), name="comp_indicator_code_format"
            ),
            models.CheckConstraint(condition=Q(weight__gte=0), name="comp_indicator_weight_ge0"),
            models.CheckConstraint(
                condition=Q(full_marks__gt=0), name="comp_indicator_full_marks_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_weighted(self) -> bool:
        return self.rule in (self.Rule.ATTAINMENT, self.Rule.RANK, self.Rule.BANDS)


class Report(TimeStampedModel):
    """A participant's values for one period. Versions: a correction after lock makes a new
    version (``is_current``) pointing at the one it replaces, with who, when and why."""

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        RETURNED = "returned", _("已退回")
        VERIFIED = "verified", _("已审核")
        LOCKED = "locked", _("已锁定")

    participant = models.ForeignKey(
        Participant, verbose_name=_("参赛者"), on_delete=models.PROTECT, related_name="reports"
    )
    period = models.ForeignKey(
        Period, verbose_name=_("考核期"), on_delete=models.PROTECT, related_name="reports"
    )
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    is_current = models.BooleanField(_("当前版本"), default=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正前版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.DRAFT)
    self_score = _points_field(_("自评分"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("填报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回理由"), blank=True)
    locked_at = models.DateTimeField(_("锁定时间"), null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更正人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    corrected_at = models.DateTimeField(_("更正时间"), null=True, blank=True)
    correction_reason = models.TextField(_("更正理由"), blank=True)

    class Meta:
        ordering = ["period", "participant__code", "-version"]
        verbose_name = _("填报")
        verbose_name_plural = _("填报")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "period"],
                condition=Q(is_current=True),
                name="comp_report_one_current",
            ),
            models.UniqueConstraint(
                fields=["participant", "period", "version"], name="comp_report_version_unique"
            ),
            models.CheckConstraint(
                condition=~Q(state="returned") | ~Q(return_reason=""),
                name="comp_report_return_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(supersedes__isnull=True) | ~Q(correction_reason=""),
                name="comp_report_correction_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "is_current", "state"], name="comp_report_period"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} · {self.period} · v{self.version}"


class ReportValue(models.Model):
    """One indicator's value in a report (reported indicators only)."""

    report = models.ForeignKey(
        Report, verbose_name=_("填报"), on_delete=models.CASCADE, related_name="values"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.PROTECT, related_name="values"
    )
    value = _value_field(_("数值"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["report", "indicator__position", "indicator_id"]
        verbose_name = _("填报数值")
        verbose_name_plural = _("填报数值")
        constraints = [
            models.UniqueConstraint(fields=["report", "indicator"], name="comp_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}={self.value}"


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"competitions/evidence/{instance.report_id}/{filename}"


class Evidence(TimeStampedModel):
    """A file attached to a report as evidence (佐证材料)."""

    report = models.ForeignKey(
        Report, verbose_name=_("填报"), on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(_("文件"), upload_to=evidence_path, max_length=255)
    name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["report", "id"]
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.name


class Snapshot(models.Model):
    """The immutable result of computing a period: rows per participant, the rules' hash and
    a hash over the canonical JSON of everything. Publishing freezes it as the result."""

    period = models.ForeignKey(
        Period, verbose_name=_("考核期"), on_delete=models.CASCADE, related_name="snapshots"
    )
    number = models.PositiveIntegerField(_("序号"))
    rules_hash = models.CharField(_("规则版本"), max_length=64)
    content_hash = models.CharField(_("结果指纹"), max_length=64)
    rules = models.JSONField(_("规则"), default=dict)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计算人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    computed_at = models.DateTimeField(_("计算时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    row_count = models.PositiveIntegerField(_("参赛者数"), default=0)

    class Meta:
        ordering = ["period", "-number"]
        verbose_name = _("排名快照")
        verbose_name_plural = _("排名快照")
        constraints = [
            models.UniqueConstraint(fields=["period", "number"], name="comp_snapshot_number"),
            models.UniqueConstraint(
                fields=["period"],
                condition=Q(published_at__isnull=False),
                name="comp_snapshot_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} #{self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class SnapshotRow(models.Model):
    """One participant in a snapshot. ``values`` maps each indicator code to
    ``[value, points, contribution]`` as decimal strings (value null when absent)."""

    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("排名快照"), on_delete=models.CASCADE, related_name="rows"
    )
    participant = models.ForeignKey(
        Participant, verbose_name=_("参赛者"), on_delete=models.PROTECT, related_name="+"
    )
    bracket = models.ForeignKey(
        Bracket,
        verbose_name=_("分组"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The participant's code as the snapshot was computed with it: the content hash covers
    # it, so the snapshot stays verifiable after the participant is given another code.
    # Never shown (before the person codes it was the phone number).
    code = models.CharField(_("计算时的参赛编码"), max_length=40, blank=True)
    position = models.PositiveIntegerField(_("顺序"))
    rank = models.PositiveIntegerField(_("名次"))
    total = _points_field(_("总分"))
    bonus = _points_field(_("加分"), default=Decimal(0))
    penalty = _points_field(_("扣分"), default=Decimal(0))
    vetoed = models.BooleanField(_("一票否决"), default=False)
    self_score = _points_field(_("自评分"), null=True, blank=True)
    values = models.JSONField(_("指标明细"), default=dict)

    class Meta:
        ordering = ["snapshot", "position"]
        verbose_name = _("快照行")
        verbose_name_plural = _("快照行")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "participant"], name="comp_snapshot_row_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.participant_id}"


class Award(TimeStampedModel):
    """A participant on a published snapshot's award list, with its share of the bonus pool."""

    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("排名快照"), on_delete=models.CASCADE, related_name="awards"
    )
    participant = models.ForeignKey(
        Participant, verbose_name=_("参赛者"), on_delete=models.PROTECT, related_name="awards"
    )
    bracket = models.ForeignKey(
        Bracket, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rank = models.PositiveIntegerField(_("名次"))
    amount = models.DecimalField(
        _("奖金（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["snapshot", "bracket_id", "rank", "participant__code"]
        verbose_name = _("激励名单")
        verbose_name_plural = _("激励名单")
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "participant"], name="comp_award_once"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} #{self.rank}"


class HelpAssignment(TimeStampedModel):
    """A participant at the bottom of a published ranking, on the help list (帮扶名单), with
    the organization or person helping it and the action plan."""

    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("排名快照"), on_delete=models.CASCADE, related_name="help_list"
    )
    participant = models.ForeignKey(
        Participant, verbose_name=_("参赛者"), on_delete=models.PROTECT, related_name="help"
    )
    rank = models.PositiveIntegerField(_("名次"))
    helper_organization = models.ForeignKey(
        Organization,
        verbose_name=_("帮扶单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    helper_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("帮扶人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action_plan = models.TextField(_("帮扶措施"), blank=True)

    class Meta:
        ordering = ["snapshot", "rank", "participant__code"]
        verbose_name = _("帮扶名单")
        verbose_name_plural = _("帮扶名单")
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "participant"], name="comp_help_once"),
        ]

    def __str__(self) -> str:
        return f"{self.participant} #{self.rank}"


class HelpNote(models.Model):
    """A follow-up note (跟踪记录) on a help assignment."""

    assignment = models.ForeignKey(
        HelpAssignment, verbose_name=_("帮扶"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    text = models.TextField(_("内容"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["assignment", "created_at", "id"]
        verbose_name = _("帮扶跟踪记录")
        verbose_name_plural = _("帮扶跟踪记录")

    def __str__(self) -> str:
        return self.text[:30]


class Title(TimeStampedModel):
    """An individual title (称号) of a period, e.g. 2024年第二季度 最佳降含水标兵: nominated from
    the published ranking, approved by an officer, published with a certificate."""

    class State(models.TextChoices):
        NOMINATED = "nominated", _("已提名")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("未批准")
        PUBLISHED = "published", _("已公布")

    snapshot = models.ForeignKey(
        Snapshot, verbose_name=_("排名快照"), on_delete=models.PROTECT, related_name="titles"
    )
    participant = models.ForeignKey(
        Participant, verbose_name=_("参赛者"), on_delete=models.PROTECT, related_name="titles"
    )
    name = models.CharField(_("称号"), max_length=100)
    rank = models.PositiveIntegerField(_("名次"))
    citation = models.TextField(_("事迹"), blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=State.choices, default=State.NOMINATED
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("公布时间"), null=True, blank=True)
    # The certificates app is built alongside; its code is kept rather than a foreign key.
    certificate_code = models.CharField(_("证书编号"), max_length=32, blank=True)

    class Meta:
        ordering = ["snapshot", "rank", "id"]
        verbose_name = _("荣誉称号")
        verbose_name_plural = _("荣誉称号")
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "participant", "name"], name="comp_title_once"
            ),
        ]

    def __str__(self) -> str:
        return self.name
