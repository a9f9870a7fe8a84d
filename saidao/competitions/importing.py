"""Importing period reports from .xlsx: every row checked, every error with its row and
reason, and nothing saved unless the whole file is right."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from saidao.accounts.phones import mask_phone, normalize_phone
from saidao.core.errors import SaidaoError
from saidao.core.imports import ImportProgress
from saidao.core.sheets import (
    Sheet,
    SheetErrors,
    SheetReader,
    SheetRefused,
    cell_text,
    sheet_open,
    xlsx_bytes,
)

from .errors import ImportInvalid
from .models import Competition, Indicator, Participant, Period, Report

UNIT_CODE = "参赛单位编码"
PERSON_CODE = "参赛人编码"
PERSON_PHONE = "参赛人手机号"
COLUMNS = ("指标", "期间", "数值", "单位", "备注")
MAX_ROWS = 50000


@dataclass
class ImportRow:
    row: int
    participant: Participant
    indicator: Indicator
    period: Period
    value: str
    unit: str
    note: str


@dataclass
class ImportParse(SheetErrors):
    rows: list[ImportRow] = field(default_factory=list)


def _raw_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "x"  # a TRUE/FALSE cell is not a number
    if isinstance(value, float):
        return repr(value)
    return str(value).strip()


def _participant_of(
    cells: dict[str, Any],
    col: dict[str, str],
    by_code: dict[str, Participant],
    by_phone: dict[str, Participant],
) -> tuple[Participant | None, str, str | None]:
    """The participant a row names, the column to point at, and what is wrong (None when
    nothing): a unit by its code; a person by the code when given (the phone column then
    left alone: it may hold the template's masked number), else by the phone number."""
    if UNIT_CODE in col:
        key, where = cell_text(cells[UNIT_CODE]), col[UNIT_CODE]
        if not key:
            return None, where, _("不能为空。")
        p = by_code.get(key)
        if p is None:
            return None, where, _("“%(v)s”不是本竞赛的参赛者。") % {"v": key}
        return p, where, None
    code = cell_text(cells[PERSON_CODE]) if PERSON_CODE in col else ""
    raw = cell_text(cells[PERSON_PHONE]) if PERSON_PHONE in col else ""
    if code:
        where = col[PERSON_CODE]
        p = by_code.get(code)
        if p is None:
            return None, where, _("“%(v)s”不是本竞赛的参赛者。") % {"v": code}
        return p, where, None
    where = col.get(PERSON_PHONE) or col[PERSON_CODE]
    if not raw:
        return None, col.get(PERSON_CODE) or where, _("不能为空。")
    if "*" in raw:
        return None, where, _("手机号中间四位已隐去，请填写参赛人编码或完整的手机号。")
    phone = normalize_phone(raw)
    p = by_phone.get(phone)
    if p is None:
        return None, where, _("“%(v)s”不是您可以填报的参赛者。") % {"v": phone}
    return p, where, None


def reports_parse(
    *,
    actor: Any,
    competition: Competition,
    file: IO[bytes],
    progress: Callable[[int], None] | None = None,
) -> ImportParse:
    """Check every row against the competition; saves nothing. ``progress`` is told how many
    rows have been read, now and then."""
    result = ImportParse()
    too_many = _("最多 %(n)d 行，请拆分后分批导入。") % {"n": MAX_ROWS}
    try:
        with sheet_open(
            file, errors=result, max_rows=MAX_ROWS, too_many=too_many, progress=progress
        ) as sheet:
            _rows_parse(sheet, result, actor, competition, too_many)
    except SheetRefused as e:
        result = ImportParse()
        message = e.message or _("无法读取文件，请上传 .xlsx 格式的填报表（可先下载模板）。")
        result.error(0, "", message)
        return result
    if not result.rows and not result.errors:
        result.error(2, "", _("文件中没有数据行。"))
    return result


def _rows_parse(
    sheet: SheetReader, result: ImportParse, actor: Any, competition: Competition, too_many: str
) -> None:
    from .selectors import user_can_report

    header = [cell_text(v) for v in sheet.header]
    by_unit = competition.participant_kind == Competition.ParticipantKind.UNIT
    # A person is named by the code or the phone number (either column, or both).
    names = (UNIT_CODE,) if by_unit else (PERSON_CODE, PERSON_PHONE)
    keys = [c for c in names if c in header]
    missing = [c for c in COLUMNS if c not in header]
    if not keys:
        either = _("%(a)s或%(b)s") % {"a": PERSON_CODE, "b": PERSON_PHONE}
        missing.insert(0, UNIT_CODE if by_unit else either)
    if missing:
        result.error(
            1, "", _("第一行缺少列：%(cols)s。请使用模板的表头。") % {"cols": "、".join(missing)}
        )
        return
    index = {name: header.index(name) for name in (*keys, *COLUMNS)}
    col = {name: f"{get_column_letter(i + 1)}（{name}）" for name, i in index.items()}
    participants = list(
        competition.participants.select_related(
            "user", "home", "competition__program__organization"
        )
    )
    by_code = {p.code: p for p in participants}
    by_phone = {p.user.phone: p for p in participants if p.user}
    indicators = list(competition.indicators.all())
    by_name = {i.name: i for i in indicators} | {i.code: i for i in indicators}
    periods = {p.key: p for p in competition.periods.all()} | {
        p.label: p for p in competition.periods.all()
    }
    allowed: dict[int, bool] = {}
    seen: dict[tuple[int, int, int], int] = {}
    for n, values in sheet.rows():
        cells = {name: values[i] for name, i in index.items()}
        if not any(cell_text(v) for v in cells.values()):
            continue
        if n - 1 > MAX_ROWS:
            result.error(n, "", too_many)
            break
        p, where, problem = _participant_of(cells, col, by_code, by_phone)
        ok = problem is None
        if problem is not None:
            result.error(n, where, problem)
        elif p is not None:
            if p.pk not in allowed:
                allowed[p.pk] = user_can_report(user=actor, participant=p)
            if not allowed[p.pk]:
                if where == col.get(PERSON_PHONE):
                    # Named by phone: the same answer as for a stranger's number, so that
                    # the file does not tell whose number it is.
                    problem = _("“%(v)s”不是您可以填报的参赛者。") % {
                        "v": normalize_phone(cell_text(cells[PERSON_PHONE]))
                    }
                else:
                    problem = _("您不是“%(p)s”的填报员。") % {"p": p.name}
                result.error(n, where, problem)
                ok = False
        ind = by_name.get(cell_text(cells["指标"]))
        if ind is None:
            result.error(
                n, col["指标"], _("“%(v)s”不是本竞赛的指标。") % {"v": cell_text(cells["指标"])}
            )
            ok = False
        elif ind.source != Indicator.Source.REPORTED:
            result.error(n, col["指标"], _("指标“%(v)s”由系统计算，不需要填报。") % {"v": ind.name})
            ok = False
        period = periods.get(cell_text(cells["期间"]).upper()) or periods.get(
            cell_text(cells["期间"])
        )
        if period is None:
            result.error(
                n, col["期间"], _("“%(v)s”不是本竞赛的考核期。") % {"v": cell_text(cells["期间"])}
            )
            ok = False
        elif period.state != Period.State.OPEN:
            result.error(
                n,
                col["期间"],
                _("考核期“%(p)s”%(s)s，不能再填报。")
                % {"p": period.label, "s": period.get_state_display()},
            )
            ok = False
        raw = _raw_value(cells["数值"])
        unit = cell_text(cells["单位"])
        if ind is not None:
            from .services import value_parse

            try:
                value_parse(raw, indicator=ind)
            except SaidaoError as exc:
                result.error(n, col["数值"], str(exc.message))
                ok = False
            if unit != ind.unit:
                result.error(
                    n,
                    col["单位"],
                    _("指标“%(i)s”的计量单位是“%(u)s”，填报的是“%(g)s”。")
                    % {"i": ind.name, "u": ind.unit or "-", "g": unit or "-"},
                )
                ok = False
        if ok and p is not None and ind is not None and period is not None:
            dup = (p.pk, ind.pk, period.pk)
            if dup in seen:
                result.error(n, "", _("与第 %(row)d 行重复。") % {"row": seen[dup]})
                continue
            seen[dup] = n
            result.rows.append(
                ImportRow(n, p, ind, period, raw, unit, cell_text(cells["备注"])[:200])
            )


def reports_import(
    *,
    actor: Any,
    competition: Competition,
    file: IO[bytes],
    submit: bool = False,
    progress: ImportProgress | None = None,
) -> Any:
    """Save every row as the participants' reports (drafts, or submitted when ``submit``);
    ImportInvalid listing every error, and nothing saved, otherwise. ``progress`` (a
    background job's) is told how far the reading and the saving are."""
    from .services import ImportResult, report_save, report_submit

    parsed = reports_parse(
        actor=actor,
        competition=competition,
        file=file,
        progress=progress.reading if progress else None,
    )
    if parsed.errors:
        raise ImportInvalid(detail={"errors": parsed.errors})
    groups: dict[tuple[int, int], list[ImportRow]] = defaultdict(list)
    for r in parsed.rows:
        groups[(r.participant.pk, r.period.pk)].append(r)
    errors: list[dict[str, Any]] = []
    reports: list[Report] = []
    try:
        with transaction.atomic():
            for i, rows in enumerate(groups.values(), start=1):
                if progress is not None:
                    progress.saving(i, len(groups))
                first = rows[0]
                try:
                    report = report_save(
                        actor=actor,
                        participant=first.participant,
                        period=first.period,
                        values={r.indicator.code: r.value for r in rows},
                        units={r.indicator.code: r.unit for r in rows},
                        notes={r.indicator.code: r.note for r in rows},
                    )
                    if submit:
                        report = report_submit(actor=actor, report=report)
                    reports.append(report)
                except SaidaoError as exc:
                    for r in rows:
                        errors.append({"row": r.row, "column": "", "message": str(exc.message)})
            if errors:
                raise ImportInvalid(detail={"errors": sorted(errors, key=lambda e: e["row"])})
    except ImportInvalid:
        raise
    return ImportResult(reports=reports, values=len(parsed.rows))


def import_template(*, competition: Competition, period: Period | None = None) -> bytes:
    """A template with the header and one example row per reported indicator; for people
    the code and the masked phone number (the import goes by the code, or a full number)."""
    unit = competition.participant_kind == Competition.ParticipantKind.UNIT
    who = [UNIT_CODE] if unit else [PERSON_CODE, PERSON_PHONE]
    first = competition.participants.select_related("user").order_by("code").first()
    key = [""] * len(who)
    if first is not None:
        phone = first.user.phone if first.user else ""
        key = [first.code] if unit else [first.code, mask_phone(phone)]
    period = period or competition.periods.order_by("-starts_on").first()
    rows = [
        [*key, ind.name, period.key if period else "", None, ind.unit, ""]
        for ind in competition.indicators.filter(source=Indicator.Source.REPORTED).order_by(
            "position", "id"
        )
    ]
    # Indicator names and codes are typed by people: text cells only (see xlsx_bytes).
    return xlsx_bytes(Sheet(_("填报"), [*who, *COLUMNS], rows, widths=18))
