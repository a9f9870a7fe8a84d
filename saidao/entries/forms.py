"""Forms only parse input; the entry form's fields follow the campaign's settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from saidao.campaigns.models import ASKED_REQUIRED, ENTRY_FORM_FIELDS, NOT_ASKED, Campaign
from saidao.regions.forms import RegionFieldsMixin

from .models import Report

TEXT_FIELDS = ("real_name", "mobile", "employer", "position", "title", "description")


class EntryForm(RegionFieldsMixin):
    real_name = forms.CharField(label=ENTRY_FORM_FIELDS["real_name"], max_length=50)
    mobile = forms.CharField(
        label=ENTRY_FORM_FIELDS["mobile"],
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "numeric"}),
    )
    employer = forms.CharField(label=ENTRY_FORM_FIELDS["employer"], max_length=100)
    position = forms.CharField(label=ENTRY_FORM_FIELDS["position"], max_length=50)
    theme = forms.TypedChoiceField(label=ENTRY_FORM_FIELDS["theme"], coerce=int, empty_value=None)
    title = forms.CharField(label=ENTRY_FORM_FIELDS["title"], max_length=60)
    description = forms.CharField(
        label=ENTRY_FORM_FIELDS["description"],
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_publish = forms.BooleanField(
        label=_("我同意主办方在活动中公开展示本人的肖像和声音"), required=False
    )
    upload_id = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        form = campaign.entry_form
        theme_field = self.fields["theme"]
        assert isinstance(theme_field, forms.TypedChoiceField)
        theme_field.choices = [("", _("请选择主题"))] + [
            (t.pk, t.title) for t in campaign.themes.all()
        ]
        self.fields["city"].label = ENTRY_FORM_FIELDS["city"]
        # The service decides what is missing; fields are never required at parse time, so the
        # message comes from one place.
        for name in (*TEXT_FIELDS, "theme", "province", "city"):
            if form.get(name, NOT_ASKED) == NOT_ASKED:
                del self.fields[name]
            else:
                self.fields[name].required = False
                if form.get(name) == ASKED_REQUIRED:
                    self.fields[name].widget.attrs["aria-required"] = "true"


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("举报理由"), choices=Report.Reason.choices)
    note = forms.CharField(label=_("补充说明"), max_length=200, required=False)


class ReviewForm(forms.Form):
    entries = forms.TypedMultipleChoiceField(coerce=int, choices=())
    decision = forms.ChoiceField(choices=[("approve", _("通过")), ("reject", _("不通过"))])
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, ids: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entries = self.fields["entries"]
        assert isinstance(entries, forms.TypedMultipleChoiceField)
        entries.choices = [(i, str(i)) for i in ids]
