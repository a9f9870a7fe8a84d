from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from .selectors import region_children

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    kind: str
    parent: str | None
    zone_city: str | None


@router.get("/regions", response=list[RegionOut], auth=None)
def regions_list(request: HttpRequest, parent: str | None = None) -> list[RegionOut]:
    """Provinces, or the direct children of `parent` (a 6-digit GB/T 2260 code)."""
    return [
        RegionOut(
            code=r.code,
            name=r.name,
            level=r.level,
            kind=r.kind,
            parent=r.parent_id,
            zone_city=r.zone_city_id,
        )
        for r in region_children(parent=parent)
    ]
