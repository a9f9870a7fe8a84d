from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.db import transaction

from .models import Region

MUNICIPALITY = Region.Kind.MUNICIPALITY


def regions_data() -> list[list[Any]]:
    """The shipped GB/T 2260 rows: [code, name, level, kind, parent_code]."""
    text = resources.files("saidao.regions").joinpath("data/regions.json").read_text("utf-8")
    rows: list[list[Any]] = json.loads(text)
    return rows


def _zones(rows: list[list[Any]]) -> dict[str, tuple[str, str | None]]:
    """Map each code to (province zone, city zone) by the zone rules in Region's docstring."""
    by_code = {r[0]: r for r in rows}
    zones: dict[str, tuple[str, str | None]] = {}
    for code, _name, level, kind, parent in rows:
        if level == "province":
            zones[code] = (code, code if kind == MUNICIPALITY else None)
            continue
        province = parent if by_code[parent][2] == "province" else by_code[parent][4]
        if by_code[province][3] == MUNICIPALITY:
            city = province
        elif level == "prefecture" or parent == province:
            city = code
        else:
            city = parent
        zones[code] = (province, city)
    return zones


@transaction.atomic
def regions_load() -> int:
    """Insert or update every shipped region; returns how many rows the data file holds."""
    return regions_load_into(Region, regions_data())


def regions_load_into(model: type[Region], rows: list[list[Any]]) -> int:
    """Load ``rows`` into ``model`` (the live model, or the historical one in a migration)."""
    zones = _zones(rows)
    fields = ("name", "level", "kind", "parent_id", "province_id", "zone_city_id")
    existing = {row[0]: row[1:] for row in model.objects.values_list("code", *fields).iterator()}
    objs = [
        model(
            code=code,
            name=name,
            level=level,
            kind=kind,
            parent_id=parent,
            province_id=zones[code][0],
            zone_city_id=zones[code][1],
        )
        for code, name, level, kind, parent in rows
    ]
    # Parents first, so foreign keys hold on databases that check them immediately.
    order = {"province": 0, "prefecture": 1, "county": 2}
    objs.sort(key=lambda r: (order[r.level], r.code))
    new = [r for r in objs if r.code not in existing]
    # Only rows whose data changed are rewritten, so a reload of unchanged data is cheap.
    old = [
        r
        for r in objs
        if r.code in existing and existing[r.code] != tuple(getattr(r, f) for f in fields)
    ]
    for level in ("province", "prefecture", "county"):
        model.objects.bulk_create([r for r in new if r.level == level], batch_size=500)
    if old:
        model.objects.bulk_update(
            old, ["name", "level", "kind", "parent", "province", "zone_city"], batch_size=500
        )
    return len(rows)
