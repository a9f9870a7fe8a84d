"""Region pickers shared by every form that asks for a province and a prefecture city."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from saidao.core.errors import NotFound

from .models import Region
from .selectors import region_cities


def province_choices() -> list[tuple[str, str]]:
    provinces = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code")
    return [("", str(_("请选择省份")))] + [(r.code, r.name) for r in provinces]


class RegionFieldsMixin(forms.Form):
    province = forms.ChoiceField(label=_("省份"), choices=())
    city = forms.CharField(
        label=_("城市"),
        widget=forms.Select(choices=[("", _("请先选择省份"))]),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province_field = self.fields["province"]
        assert isinstance(province_field, forms.ChoiceField)
        province_field.choices = province_choices()
        province_field.widget.attrs.update(
            {
                "hx-get": "/regions/cities/",
                "hx-target": "#id_city",
                "hx-trigger": "change",
                "hx-include": "this",
            }
        )
        province = self.data.get("province") or self.initial.get("province")
        if province:
            try:
                cities = [("", str(_("请选择城市")))] + [
                    (c.code, c.name) for c in region_cities(province=str(province))
                ]
            except NotFound:
                cities = [("", str(_("请先选择省份")))]
            self.fields["city"].widget = forms.Select(choices=cities)
