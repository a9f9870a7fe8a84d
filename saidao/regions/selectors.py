from __future__ import annotations

from django.db.models import F, QuerySet
from django.utils.translation import gettext as _

from saidao.core.errors import NotFound

from .models import Region


def region_get(*, code: str) -> Region:
    try:
        return Region.objects.select_related("parent", "province", "zone_city").get(code=code)
    except Region.DoesNotExist:
        raise NotFound(
            _("行政区划代码“%(code)s”不存在，请使用 6 位国标代码。") % {"code": code},
            detail={"region": code},
        ) from None


def region_children(*, parent: str | None) -> QuerySet[Region]:
    """Provinces when ``parent`` is None, else the direct children of that code."""
    if parent is None:
        return Region.objects.filter(parent__isnull=True).order_by("code")
    region_get(code=parent)
    return Region.objects.filter(parent_id=parent).order_by("code")


def region_cities(*, province: str) -> QuerySet[Region]:
    """The city zones a worker can pick under a province.

    A municipality is its own city; a province-administered county-level unit is its own city.
    """
    p = region_get(code=province)
    if p.kind == Region.Kind.MUNICIPALITY:
        return Region.objects.filter(code=p.code)
    return Region.objects.filter(province_id=p.code, zone_city_id=F("code")).exclude(code=p.code)
