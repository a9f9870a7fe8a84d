"""Domain errors of labor competitions; the API renders them as {"code","message","detail"}."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from saidao.core.errors import Conflict, InvalidInput, SaidaoError


class PeriodNotOpen(Conflict):
    code = "period_not_open"
    default_message = _("该考核期已截止或已锁定，不能再填报。")


class ReportStateInvalid(Conflict):
    code = "report_state"
    default_message = _("该填报当前的状态不允许此操作。")


class ValueInvalid(InvalidInput):
    code = "value_invalid"
    default_message = _("填报的数值有误。")


class UnitMismatch(InvalidInput):
    code = "unit_mismatch"
    default_message = _("计量单位与指标不一致。")


class RequiredMissing(InvalidInput):
    """``detail["missing"]`` lists participants (code) with the indicators they lack."""

    code = "required_missing"
    default_message = _("缺少必填指标。")


class FormulaInvalid(InvalidInput):
    code = "formula_invalid"
    default_message = _("公式有误。")


class FormulaCycle(FormulaInvalid):
    code = "formula_cycle"
    default_message = _("公式之间存在循环引用。")


class DivisionByZero(InvalidInput):
    code = "division_by_zero"
    default_message = _("公式计算时出现除以零。")


class WeightsInvalid(InvalidInput):
    code = "weights_invalid"
    default_message = _("指标权重之和与项目总权重不一致。")


class RuleInvalid(InvalidInput):
    code = "rule_invalid"
    default_message = _("计分规则设置有误。")


class OutsideProgram(InvalidInput):
    code = "outside_program"
    default_message = _("参赛者不在本竞赛项目主办组织的范围内。")


class OwnUnitAssessment(SaidaoError):
    code = "own_unit"
    status = 403
    default_message = _("考核员不能审核本单位的填报。")


class NotReporter(SaidaoError):
    code = "not_reporter"
    status = 403
    default_message = _("您不是该参赛者的填报员。")


class NotAssessor(SaidaoError):
    code = "not_assessor"
    status = 403
    default_message = _("您不是该竞赛项目的考核员。")


class SnapshotPublished(Conflict):
    code = "snapshot_published"
    default_message = _("该考核期的排名已发布，不能再发布其他结果。")


class ImportInvalid(InvalidInput):
    """An .xlsx with errors; ``detail["errors"]`` lists each with its row, column and reason."""

    code = "import_invalid"
    default_message = _("导入文件有错误，未导入任何数据。请按提示修改后重新上传。")
