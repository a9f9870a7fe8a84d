from __future__ import annotations

import io

import pytest

from saidao.conftest import Tree
from saidao.core.errors import OutsideScope
from saidao.quizzes import importing, services
from saidao.quizzes.errors import QuestionImportInvalid
from saidao.quizzes.models import Question, QuestionKind

from .factories import questions_file, row

pytestmark = pytest.mark.django_db


def _errors(tree: Tree, file: io.BytesIO, filename: str = "q.xlsx") -> list[dict[str, object]]:
    with pytest.raises(QuestionImportInvalid) as exc:
        services.questions_import(
            actor=tree.city_officer, organization=tree.dingxi, file=file, filename=filename
        )
    assert not Question.objects.exists() or Question.objects.count() == 1  # nothing new
    errors: list[dict[str, object]] = exc.value.detail["errors"]
    return errors


def test_messy_file_is_normalized(tree: Tree) -> None:
    """Full-width letters and commas, "A、C", "a c", numeric cells, stray spaces, blank rows,
    true/false written 对/错/√/×, difficulty blank, a full-width header all import."""
    rows = [
        row(kind=" 单选题 ", stem="  第一题  ", answer="Ｂ"),
        [],
        row(kind="多选", stem="第二题", answer="Ａ，Ｃ"),
        row(kind="多选", stem="第三题", answer="A、C"),
        row(kind="多选", stem="第四题", answer="a c"),
        row(kind="单选", stem="第五题", options=(1, 2, 3.5, 2024), answer="D", difficulty=""),
        row(kind="判断", stem="第六题", options=(), answer="√"),
        row(kind="判断", stem="第七题", options=(), answer="错误"),
        row(kind="判断题", stem="第八题", options=(), answer="×"),
        row(kind="判断", stem="第九题", options=(), answer="B", difficulty="困难"),
        [],
    ]
    header = list(importing.COLUMNS)
    header[2] = "选项Ａ"
    created = services.questions_import(
        actor=tree.city_officer,
        organization=tree.dingxi,
        file=questions_file(rows, header=header),
        filename="q.xlsx",
    )
    got = {q.stem: (q.kind, q.answer, q.options, q.difficulty) for q in created}
    assert got["第一题"][:2] == (QuestionKind.SINGLE, "B")
    assert [got[s][1] for s in ("第二题", "第三题", "第四题")] == ["AC", "AC", "AC"]
    assert got["第五题"][2] == ["1", "2", "3.5", "2024"] and got["第五题"][3] == "medium"
    assert [got[s][1] for s in ("第六题", "第七题", "第八题", "第九题")] == ["A", "B", "B", "B"]
    assert got["第六题"][2] == ["正确", "错误"] and got["第九题"][3] == "hard"
    assert all(q.current_version is not None for q in Question.objects.all())


def test_wrong_answer_letter_is_reported_with_row_and_column(tree: Tree) -> None:
    """An answer naming a letter with no option: row, column 答案, and the reason."""
    errors = _errors(tree, questions_file([row(), row(stem="二", answer="E")]))
    assert errors == [
        {"row": 3, "column": "I（答案）", "message": "答案“E”没有对应的选项（本题只有 A–D）。"}
    ]


def test_missing_option_is_reported(tree: Tree) -> None:
    """选项B blank while 选项C is filled: the missing column is named."""
    errors = _errors(tree, questions_file([row(options=("甲", "", "丙"), answer="A")]))
    assert errors == [
        {"row": 2, "column": "D（选项B）", "message": "缺少选项B，选项必须从 A 起连续填写。"}
    ]


def test_duplicate_question_in_file_and_in_bank(tree: Tree) -> None:
    """A stem repeated in the file names the first row; one already in the bank is refused."""
    services.question_create(
        actor=tree.city_officer,
        organization=tree.dingxi,
        kind="single",
        stem="已有的题目？",
        options=["甲", "乙"],
        answer="A",
    )
    errors = _errors(
        tree,
        questions_file(
            [row(stem="新题目"), row(stem="新 题目"), row(stem="已有的题目?")],
        ),
    )
    assert [(e["row"], e["column"]) for e in errors] == [(3, "B（题干）"), (4, "B（题干）")]
    assert "第 2 行" in str(errors[0]["message"]) and "题库中已有" in str(errors[1]["message"])
    assert Question.objects.count() == 1


def test_wrong_question_type_and_every_error_listed(tree: Tree) -> None:
    """A bad 题型, a blank 题干, a single with two answers, a multiple with one, a bad
    difficulty: every one is listed, nothing is imported."""
    errors = _errors(
        tree,
        questions_file(
            [
                row(kind="填空"),
                row(stem="", answer="A"),
                row(stem="三", answer="AB"),
                row(kind="多选", stem="四", answer="A"),
                row(stem="五", difficulty="超难"),
                row(kind="判断", stem="六", options=(), answer="也许"),
            ]
        ),
    )
    assert [(e["row"], e["column"]) for e in errors] == [
        (2, "A（题型）"),
        (3, "B（题干）"),
        (4, "I（答案）"),
        (5, "I（答案）"),
        (6, "K（难度）"),
        (7, "I（答案）"),
    ]
    assert "单选、多选 或 判断" in str(errors[0]["message"])
    assert not Question.objects.exists()


def test_errors_are_translated(tree: Tree) -> None:
    """Under English the reasons are English."""
    from django.utils import translation

    with translation.override("en"):
        errors = _errors(tree, questions_file([row(kind="填空")]))
    assert "single" in str(errors[0]["message"]).lower() or "type" in str(errors[0]["message"])


def test_csv_in_utf8_and_gbk(tree: Tree) -> None:
    """CSV works with a BOM (Excel's UTF-8) and in GB18030 (Excel's Chinese default)."""
    text = "题型,题干,选项A,选项B,答案\n单选,甲题,对,错,A\n,,,,\n判断,乙题,,,对\n"
    created = services.questions_import(
        actor=tree.city_officer,
        organization=tree.dingxi,
        file=io.BytesIO(text.encode("utf-8-sig")),
        filename="q.csv",
    )
    assert len(created) == 2
    created = services.questions_import(
        actor=tree.city_officer,
        organization=tree.dingxi,
        file=io.BytesIO(text.replace("甲题", "丙题").replace("乙题", "丁题").encode("gb18030")),
        filename="q.csv",
    )
    assert len(created) == 2


def test_unreadable_or_headerless_file(tree: Tree) -> None:
    """A renamed image, or a sheet without the template's header, is one clear error."""
    errors = _errors(tree, io.BytesIO(b"PK\x03\x04 not really a zip"))
    assert errors[0]["row"] == 0 and ".xlsx" in str(errors[0]["message"])
    errors = _errors(tree, questions_file([row()], header=["问题", "答案"]))
    assert errors[0]["row"] == 1 and "题型" in str(errors[0]["message"])


def test_template_and_export_import_again(tree: Tree) -> None:
    """The template imports as is; an export of the bank imports into another bank."""
    for fmt in ("xlsx", "csv"):
        created = services.questions_import(
            actor=tree.city_officer,
            organization=tree.anding if fmt == "xlsx" else tree.tongwei,
            file=io.BytesIO(services.question_template(fmt=fmt)),
            filename=f"t.{fmt}",
        )
        assert len(created) == 3
    exported = services.questions_export(
        questions=list(Question.objects.filter(organization=tree.anding)), fmt="xlsx"
    )
    again = services.questions_import(
        actor=tree.city_officer,
        organization=tree.dingxi,
        file=io.BytesIO(exported),
        filename="e.xlsx",
    )
    assert sorted((q.kind, q.answer) for q in again) == sorted(
        Question.objects.filter(organization=tree.anding).values_list("kind", "answer")
    )


def test_import_outside_scope_is_refused(tree: Tree) -> None:
    """东营's officer cannot import into 定西's bank."""
    with pytest.raises(OutsideScope):
        services.questions_import(
            actor=tree.other_officer,
            organization=tree.dingxi,
            file=questions_file([row()]),
        )


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        ("AC", "multiple", "AC"),
        ("A,C", "multiple", "AC"),
        ("Ｃ、Ａ", "multiple", "AC"),
        (" a  c ", "multiple", "AC"),
        ("A；B", "multiple", "AB"),
        ("对", "true_false", "A"),
        ("正确", "true_false", "A"),
        ("✓", "true_false", "A"),
        ("错", "true_false", "B"),
        ("×", "true_false", "B"),
        ("1", "single", None),
        ("甲", "single", None),
    ],
)
def test_answer_spellings(raw: str, kind: str, expected: str | None) -> None:
    """The answer spellings seen in real files."""
    assert importing.answer_parse(raw, kind=kind) == expected
