"""Forms of the contest pages. They only shape input; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from .models import LETTERS, Contest, Difficulty, QuestionKind


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label=_("题型"), choices=QuestionKind.choices)
    stem = forms.CharField(label=_("题干"), widget=forms.Textarea(attrs={"rows": 3}))
    option_a = forms.CharField(label=_("选项A"), required=False)
    option_b = forms.CharField(label=_("选项B"), required=False)
    option_c = forms.CharField(label=_("选项C"), required=False)
    option_d = forms.CharField(label=_("选项D"), required=False)
    option_e = forms.CharField(label=_("选项E"), required=False)
    option_f = forms.CharField(label=_("选项F"), required=False)
    answer = forms.CharField(
        label=_("答案"),
        max_length=20,
        help_text=_("写选项字母，例如 A 或 AC；判断题 A 为正确、B 为错误（选项可不填）。"),
    )
    category = forms.CharField(label=_("分类"), max_length=40, required=False)
    difficulty = forms.ChoiceField(
        label=_("难度"), choices=Difficulty.choices, initial=Difficulty.MEDIUM
    )
    explanation = forms.CharField(
        label=_("解析"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    source = forms.CharField(label=_("出处"), max_length=200, required=False)

    OPTION_FIELDS = tuple(f"option_{letter.lower()}" for letter in LETTERS)

    def options(self) -> list[str]:
        return [self.cleaned_data.get(name) or "" for name in self.OPTION_FIELDS]

    @classmethod
    def initial_for(cls, question: Any) -> dict[str, Any]:
        initial = {
            "kind": question.kind,
            "stem": question.stem,
            "answer": question.answer,
            "category": question.category,
            "difficulty": question.difficulty,
            "explanation": question.explanation,
            "source": question.source,
        }
        for name, text in zip(cls.OPTION_FIELDS, question.options, strict=False):
            initial[name] = text
        return initial


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("题库文件（.xlsx 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )


class ContestForm(forms.Form):
    title = forms.CharField(label=_("竞赛名称"), max_length=120)
    description = forms.CharField(
        label=_("竞赛规则说明"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    time_limit_s = forms.IntegerField(label=_("答题时限（秒）"), min_value=10, initial=600)
    grace_s = forms.IntegerField(
        label=_("交卷宽限（秒）"),
        min_value=0,
        max_value=600,
        initial=30,
        help_text=_("时间到后再等待这么久，网络慢的交卷仍然有效。"),
    )
    tries_per_day = forms.IntegerField(label=_("每天可答次数"), min_value=1, initial=3)
    counted = forms.ChoiceField(label=_("计分方式"), choices=Contest.Counted.choices)
    pass_score = forms.IntegerField(label=_("及格分"), min_value=0, initial=60)
    partial_credit = forms.ChoiceField(label=_("多选题计分"), choices=Contest.PartialCredit.choices)
    reveal = forms.ChoiceField(label=_("公布答案和解析"), choices=Contest.Reveal.choices)
    certificate = forms.ChoiceField(label=_("证书"), choices=Contest.CertificateRule.choices)

    SETTINGS = (
        "title",
        "description",
        "time_limit_s",
        "grace_s",
        "tries_per_day",
        "counted",
        "pass_score",
        "partial_credit",
        "reveal",
        "certificate",
    )

    @classmethod
    def initial_for(cls, contest: Contest) -> dict[str, Any]:
        return {name: getattr(contest, name) for name in cls.SETTINGS}


class RuleForm(forms.Form):
    category = forms.CharField(label=_("分类"), max_length=40, required=False)
    difficulty = forms.ChoiceField(
        label=_("难度"),
        required=False,
        choices=[("", _("不限")), *Difficulty.choices],
    )
    count = forms.IntegerField(label=_("题数"), min_value=1, required=False)
    points = forms.IntegerField(label=_("每题分值"), min_value=1, required=False)


RuleFormSet = formset_factory(RuleForm, extra=2, max_num=20)
