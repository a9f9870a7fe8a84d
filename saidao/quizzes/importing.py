"""Reading and writing question files (.xlsx with openpyxl, or CSV), and normalizing answers.

Real files are messy, so cells are normalized before they are checked: full-width letters and
punctuation (NFKC), answers written "AC", "A,C", "A、C" or "a c", true/false answers written
对/错/√/×, numbers typed into numeric cells, stray spaces and blank rows. Parsing saves nothing;
it returns every row or every error with its row, column and reason.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from saidao.core.sheets import (
    Sheet,
    SheetErrors,
    SheetReader,
    SheetRefused,
    csv_bytes,
    sheet_open,
    xlsx_bytes,
)

from .models import LETTERS, Difficulty, QuestionKind

OPTION_COLUMNS = tuple(f"选项{letter}" for letter in LETTERS)
COLUMNS = ("题型", "题干", *OPTION_COLUMNS, "答案", "分类", "难度", "解析")
OPTIONAL_COLUMNS = ("出处",)
REQUIRED_COLUMNS = ("题型", "题干", "答案")
MAX_ROWS = 5000
TRUE_FALSE_OPTIONS = ("正确", "错误")

KIND_NAMES = {
    "单选": QuestionKind.SINGLE,
    "单选题": QuestionKind.SINGLE,
    "单项选择": QuestionKind.SINGLE,
    "单项选择题": QuestionKind.SINGLE,
    "多选": QuestionKind.MULTIPLE,
    "多选题": QuestionKind.MULTIPLE,
    "多项选择": QuestionKind.MULTIPLE,
    "多项选择题": QuestionKind.MULTIPLE,
    "判断": QuestionKind.TRUE_FALSE,
    "判断题": QuestionKind.TRUE_FALSE,
    "single": QuestionKind.SINGLE,
    "multiple": QuestionKind.MULTIPLE,
    "true_false": QuestionKind.TRUE_FALSE,
}
KIND_LABELS = {
    QuestionKind.SINGLE: "单选",
    QuestionKind.MULTIPLE: "多选",
    QuestionKind.TRUE_FALSE: "判断",
}
DIFFICULTY_NAMES = {
    "": Difficulty.MEDIUM,
    "易": Difficulty.EASY,
    "容易": Difficulty.EASY,
    "简单": Difficulty.EASY,
    "中": Difficulty.MEDIUM,
    "中等": Difficulty.MEDIUM,
    "一般": Difficulty.MEDIUM,
    "难": Difficulty.HARD,
    "困难": Difficulty.HARD,
    "较难": Difficulty.HARD,
    "easy": Difficulty.EASY,
    "medium": Difficulty.MEDIUM,
    "hard": Difficulty.HARD,
    "1": Difficulty.EASY,
    "2": Difficulty.MEDIUM,
    "3": Difficulty.HARD,
}
DIFFICULTY_LABELS = {Difficulty.EASY: "容易", Difficulty.MEDIUM: "中等", Difficulty.HARD: "困难"}
TRUE_WORDS = {"对", "正确", "√", "✓", "✔", "T", "TRUE", "是", "Y", "YES", "A"}
FALSE_WORDS = {"错", "错误", "×", "✗", "✘", "X", "F", "FALSE", "否", "N", "NO", "B"}
# Separators people put between answer letters, after NFKC (which turns "，" into ",").
_ANSWER_SEPARATORS = re.compile(r"[\s,、;；/|.。]+")
_FINGERPRINT_DROP = re.compile(r"[\W_]+", re.UNICODE)


def text(value: Any) -> str:
    """A cell as trimmed text; a whole number typed into a numeric cell loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def kind_parse(value: str) -> str | None:
    cleaned = _nfkc(value).replace(" ", "")
    return KIND_NAMES.get(cleaned) or KIND_NAMES.get(cleaned.lower())


def difficulty_parse(value: str) -> str | None:
    cleaned = _nfkc(value).replace(" ", "")
    return DIFFICULTY_NAMES.get(cleaned) or DIFFICULTY_NAMES.get(cleaned.lower())


def answer_parse(value: str | Iterable[str], *, kind: str) -> str | None:
    """Letters as a sorted string ("AC"), or None when the text is not letters at all.

    Range and count are checked by ``answer_problem``; here only the spelling is undone.
    """
    raw = value if isinstance(value, str) else ",".join(value)
    cleaned = _nfkc(raw).upper()
    if kind == QuestionKind.TRUE_FALSE:
        word = _ANSWER_SEPARATORS.sub("", cleaned)
        if word in TRUE_WORDS:
            return "A"
        if word in FALSE_WORDS:
            return "B"
        return None
    letters = _ANSWER_SEPARATORS.sub("", cleaned)
    if not letters or not letters.isascii() or not letters.isalpha():
        return None
    return "".join(sorted(set(letters)))


def answer_problem(answer: str, *, kind: str, options: Sequence[str]) -> str | None:
    """Why ``answer`` (parsed letters) does not fit the question, or None when it does."""
    bad = [ch for ch in answer if ch not in LETTERS[: len(options)]]
    if bad:
        return _("答案“%(letters)s”没有对应的选项（本题只有 %(range)s）。") % {
            "letters": "".join(bad),
            "range": f"A–{LETTERS[len(options) - 1]}" if options else "-",
        }
    if kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and len(answer) != 1:
        return _("单选题和判断题只能有一个答案。")
    if kind == QuestionKind.MULTIPLE and len(answer) < 2:
        return _("多选题至少要有两个正确答案；只有一个答案请改为单选题。")
    return None


def options_problem(options: Sequence[str], *, kind: str) -> str | None:
    if kind == QuestionKind.TRUE_FALSE:
        return None
    if len(options) < 2:
        return _("选择题至少需要两个选项。")
    if len({_nfkc(o) for o in options}) != len(options):
        return _("选项内容有重复。")
    return None


def fingerprint(stem: str) -> str:
    """The same question however it is spaced or punctuated (full- or half-width)."""
    core = _FINGERPRINT_DROP.sub("", _nfkc(stem).lower())
    return hashlib.sha256(core.encode()).hexdigest()


@dataclass
class ParsedQuestion:
    row: int
    kind: str
    stem: str
    options: list[str]
    answer: str
    category: str
    difficulty: str
    explanation: str
    source: str
    fingerprint: str


@dataclass
class QuestionParse(SheetErrors):
    questions: list[ParsedQuestion] = field(default_factory=list)


def questions_parse(
    file: IO[bytes],
    *,
    filename: str = "",
    existing: set[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> QuestionParse:
    """Check every row of an .xlsx or CSV question file, collecting every error.

    ``existing`` holds the fingerprints already in the bank, so a duplicate of a question there
    is an error too. ``progress`` is told how many rows have been read, now and then.
    """
    result = QuestionParse()
    too_many = _("一次最多导入 %(n)d 道题，请拆分后分批导入。") % {"n": MAX_ROWS}
    try:
        with sheet_open(
            file,
            errors=result,
            max_rows=MAX_ROWS,
            too_many=too_many,
            filename=filename,
            csv_ok=True,
            progress=progress,
        ) as sheet:
            _rows_parse(sheet, result, existing or set(), too_many)
    except SheetRefused as e:
        result = QuestionParse()
        result.error(
            0,
            "",
            e.message or _("无法读取文件，请上传 .xlsx 或 CSV 格式的题库（可先下载模板）。"),
        )
        return result
    if not result.questions and not result.errors:
        result.error(2, "", _("文件中没有题目。"))
    return result


def _rows_parse(
    sheet: SheetReader, result: QuestionParse, existing: set[str], too_many: str
) -> None:
    if not sheet.header and next(sheet.rows(), None) is None:
        result.error(1, "", _("文件是空的。"))
        return
    header = [_nfkc(text(v)).replace(" ", "") for v in sheet.header]
    # NFKC turns 选项Ａ into 选项A, so a full-width header still matches.
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        result.error(
            1, "", _("第一行缺少列：%(cols)s。请使用模板的表头。") % {"cols": "、".join(missing)}
        )
        return
    index = {name: header.index(name) for name in (*COLUMNS, *OPTIONAL_COLUMNS) if name in header}
    letters = {name: get_column_letter(i + 1) for name, i in index.items()}

    def col(name: str) -> str:
        return f"{letters.get(name, '?')}（{name}）"

    seen: dict[str, int] = {}
    for n, values in sheet.rows():
        cells = {name: text(values[i]) for name, i in index.items()}
        if not any(cells.values()):
            continue  # a blank row
        if len(result.questions) + 1 > MAX_ROWS:
            result.error(n, "", too_many)
            break
        before = len(result.errors)
        kind = kind_parse(cells.get("题型", ""))
        if kind is None:
            result.error(
                n,
                col("题型"),
                _("题型“%(v)s”无效，应为 单选、多选 或 判断。") % {"v": cells.get("题型", "")},
            )
        stem = cells.get("题干", "")
        if not stem:
            result.error(n, col("题干"), _("题干不能为空。"))
        raw_options = [cells.get(name, "") for name in OPTION_COLUMNS]
        last = max((i for i, o in enumerate(raw_options) if o), default=-1)
        options = raw_options[: last + 1]
        if kind == QuestionKind.TRUE_FALSE and not options:
            options = list(TRUE_FALSE_OPTIONS)
        gaps = [OPTION_COLUMNS[i] for i, o in enumerate(options) if not o]
        for gap in gaps:
            result.error(n, col(gap), _("缺少%(col)s，选项必须从 A 起连续填写。") % {"col": gap})
        if kind is not None and not gaps:
            problem = options_problem(options, kind=kind)
            if problem:
                result.error(n, col(OPTION_COLUMNS[0]), problem)
        raw_answer = cells.get("答案", "")
        answer = ""
        if not raw_answer:
            result.error(n, col("答案"), _("答案不能为空。"))
        elif kind is not None:
            parsed = answer_parse(raw_answer, kind=kind)
            if parsed is None:
                hint = (
                    _("判断题答案请写 对/错、正确/错误、√/× 或 A/B。")
                    if kind == QuestionKind.TRUE_FALSE
                    else _("请写选项字母，例如 A 或 AC。")
                )
                result.error(
                    n,
                    col("答案"),
                    _("答案“%(v)s”无法识别。%(hint)s") % {"v": raw_answer, "hint": hint},
                )
            elif not gaps:
                problem = answer_problem(parsed, kind=kind, options=options)
                if problem:
                    result.error(n, col("答案"), problem)
                answer = parsed
        difficulty = difficulty_parse(cells.get("难度", ""))
        if difficulty is None:
            result.error(
                n,
                col("难度"),
                _("难度“%(v)s”无效，应为 容易、中等 或 困难。") % {"v": cells.get("难度", "")},
            )
        category = cells.get("分类", "")
        if len(category) > 40:
            result.error(n, col("分类"), _("分类不能超过 40 个字。"))
        print_ = fingerprint(stem) if stem else ""
        if print_ and print_ in seen:
            result.error(n, col("题干"), _("与第 %(row)d 行的题目重复。") % {"row": seen[print_]})
        elif print_ and print_ in existing:
            result.error(n, col("题干"), _("题库中已有相同的题目。"))
        elif print_:
            seen[print_] = n
        if len(result.errors) == before:
            assert kind is not None and difficulty is not None
            result.questions.append(
                ParsedQuestion(
                    row=n,
                    kind=kind,
                    stem=stem,
                    options=options,
                    answer=answer,
                    category=category,
                    difficulty=difficulty,
                    explanation=cells.get("解析", ""),
                    source=cells.get("出处", "")[:200],
                    fingerprint=print_,
                )
            )


def question_row(
    *,
    kind: str,
    stem: str,
    options: Sequence[str],
    answer: str,
    category: str,
    difficulty: str,
    explanation: str,
) -> list[str]:
    """One question in the template's columns."""
    padded = [*options, *[""] * (len(LETTERS) - len(options))]
    if kind == QuestionKind.TRUE_FALSE:
        padded = [""] * len(LETTERS)  # 正确/错误 are implied
        answer = "对" if answer == "A" else "错"
    return [
        KIND_LABELS[QuestionKind(kind)],
        stem,
        *padded,
        answer,
        category,
        DIFFICULTY_LABELS.get(Difficulty(difficulty), "") if difficulty else "",
        explanation,
    ]


def rows_xlsx(rows: Iterable[Sequence[Any]], *, title: str = "题库") -> bytes:
    """Questions in the template's columns; typed text stays text cells (see ``xlsx_bytes``)."""
    widths = (None, 48, *[16] * (len(COLUMNS) - 2))
    return xlsx_bytes(Sheet(title, COLUMNS, rows, widths=widths))


def rows_csv(rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with a byte-order mark; formula-looking text marked (see ``csv_bytes``)."""
    return csv_bytes(COLUMNS, rows)


TEMPLATE_ROWS: list[list[str]] = [
    question_row(
        kind=QuestionKind.SINGLE,
        stem="《中华人民共和国工会法》规定，工会的基本职责是什么？",
        options=["维护职工合法权益", "组织文艺活动", "管理企业生产", "发放工资"],
        answer="A",
        category="工会法",
        difficulty=Difficulty.EASY,
        explanation="维护职工合法权益、竭诚服务职工群众是工会的基本职责。",
    ),
    question_row(
        kind=QuestionKind.MULTIPLE,
        stem="以下哪些属于新就业形态劳动者？",
        options=["快递员", "网约车司机", "外卖送餐员", "公务员"],
        answer="ABC",
        category="新就业形态",
        difficulty=Difficulty.MEDIUM,
        explanation="快递员、网约车司机、外卖送餐员都是新就业形态劳动者。",
    ),
    question_row(
        kind=QuestionKind.TRUE_FALSE,
        stem="职工依法参加和组织工会的权利，任何组织和个人不得阻挠和限制。",
        options=[],
        answer="A",
        category="工会法",
        difficulty=Difficulty.EASY,
        explanation="见《工会法》第三条。",
    ),
]


def template_file(fmt: str = "xlsx") -> bytes:
    return rows_csv(TEMPLATE_ROWS) if fmt == "csv" else rows_xlsx(TEMPLATE_ROWS, title="题库模板")
