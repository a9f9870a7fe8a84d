from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """A GB/T 2260 administrative division: province, prefecture-level unit or county-level unit.

    ``zone_city`` is the prefecture-level zone (赛区) the division counts in: itself for a
    prefecture-level unit, its prefecture for a county, the municipality itself for a
    municipality and its districts, and itself for a province-administered county-level unit.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        PREFECTURE = "prefecture", _("地级")
        COUNTY = "county", _("县级")

    class Kind(models.TextChoices):
        PROVINCE = "province", _("省")
        AUTONOMOUS_REGION = "autonomous_region", _("自治区")
        MUNICIPALITY = "municipality", _("直辖市")
        SAR = "sar", _("特别行政区")
        PREFECTURE_CITY = "prefecture_city", _("地级市")
        PREFECTURE = "prefecture", _("地区")
        AUTONOMOUS_PREFECTURE = "autonomous_prefecture", _("自治州")
        LEAGUE = "league", _("盟")
        DISTRICT = "district", _("市辖区")
        COUNTY = "county", _("县")
        COUNTY_CITY = "county_city", _("县级市")
        AUTONOMOUS_COUNTY = "autonomous_county", _("自治县")
        BANNER = "banner", _("旗")
        AUTONOMOUS_BANNER = "autonomous_banner", _("自治旗")
        SPECIAL_DISTRICT = "special_district", _("特区")
        FORESTRY_DISTRICT = "forestry_district", _("林区")

    code = models.CharField(_("代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=64)
    level = models.CharField(_("级别"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    province = models.ForeignKey(
        "self",
        verbose_name=_("所属省级赛区"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    zone_city = models.ForeignKey(
        "self",
        verbose_name=_("所属市级赛区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits"
            ),
            models.CheckConstraint(
                condition=Q(level="province", parent__isnull=True)
                | (~Q(level="province") & Q(parent__isnull=False)),
                name="region_only_provinces_are_roots",
            ),
        ]
        indexes = [models.Index(fields=["parent", "code"], name="region_parent_code")]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_province_administered(self) -> bool:
        """A county-level unit directly under a province that is not a municipality."""
        return (
            self.level == self.Level.COUNTY
            and self.parent_id is not None
            and self.parent_id == self.province_id
            and self.zone_city_id == self.code
        )
