"""Forms of the competition pages. They only collect input: values are parsed and checked by
the services (so the form and the API give the same messages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from saidao.orgs.models import Organization

from .models import Indicator, Report


class ReportForm(forms.Form):
    """One value (and a note) per reported indicator of the competition."""

    def __init__(
        self,
        *args: Any,
        indicators: list[Indicator],
        report: Report | None = None,
        self_score: bool = False,
        **kwargs: Any,
    ) -> None:
        initial: dict[str, Any] = {}
        if report is not None:
            for v in report.values.all():
                initial[f"v_{v.indicator_id}"] = f"{v.value.normalize():f}"
                initial[f"n_{v.indicator_id}"] = v.note
            if report.self_score is not None:
                initial["self_score"] = f"{report.self_score.normalize():f}"
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.indicators = indicators
        for ind in indicators:
            self.fields[f"v_{ind.pk}"] = forms.CharField(
                label=ind.name,
                required=False,
                max_length=40,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                help_text=ind.unit,
            )
            self.fields[f"n_{ind.pk}"] = forms.CharField(
                label=_("备注"), required=False, max_length=200
            )
        if self_score:
            self.fields["self_score"] = forms.CharField(
                label=_("自评分"),
                required=False,
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )

    def rows(self) -> list[tuple[Indicator, forms.BoundField, forms.BoundField]]:
        return [(i, self[f"v_{i.pk}"], self[f"n_{i.pk}"]) for i in self.indicators]

    def values(self) -> tuple[dict[str, str], dict[str, str]]:
        """The filled-in values and notes by indicator code (blank values left out)."""
        values: dict[str, str] = {}
        notes: dict[str, str] = {}
        for ind in self.indicators:
            raw = (self.cleaned_data.get(f"v_{ind.pk}") or "").strip()
            if raw:
                values[ind.code] = raw
                notes[ind.code] = self.cleaned_data.get(f"n_{ind.pk}") or ""
        return values, notes


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=_("佐证材料"), help_text=_("图片、PDF 或表格，单个文件不超过 20 MB。")
    )

    def clean_file(self) -> Any:
        f = self.cleaned_data["file"]
        if f.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 20 MB。"))
        return f


class ImportForm(forms.Form):
    file = forms.FileField(label=_("填报表（.xlsx）"))
    submit = forms.BooleanField(label=_("导入后直接提交审核"), required=False, initial=True)


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("退回理由"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class PeriodForm(forms.Form):
    key = forms.CharField(
        label=_("新的考核期"), max_length=16, help_text=_("如 2024-Q4、2024-06、2024")
    )


class HelpAssignForm(forms.Form):
    helper_organization = forms.ModelChoiceField(
        label=_("帮扶单位"), queryset=Organization.objects.none(), required=False
    )
    helper_phone = forms.CharField(
        label=_("帮扶人手机号"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    action_plan = forms.CharField(
        label=_("帮扶措施"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, organizations: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["helper_organization"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = organizations


class HelpNoteForm(forms.Form):
    text = forms.CharField(
        label=_("跟踪记录"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class NominateForm(forms.Form):
    participant = forms.IntegerField(widget=forms.HiddenInput)
    citation = forms.CharField(
        label=_("事迹"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
