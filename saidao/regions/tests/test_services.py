"""Loading the shipped GB/T 2260 data (done by migration 0002) and the zone rules it applies."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from saidao.regions.models import Region
from saidao.regions.services import regions_data, regions_load

L = Region.Level
K = Region.Kind


def _snapshot() -> list[tuple[Any, ...]]:
    return list(
        Region.objects.order_by("code").values_list(
            "code", "name", "level", "kind", "parent_id", "province_id", "zone_city_id"
        )
    )


def test_every_shipped_row_is_loaded(regions: None) -> None:
    """The table holds exactly the rows of the data file, each with its shipped fields."""
    rows = regions_data()
    assert Region.objects.count() == len(rows)
    loaded = {r[:5] for r in _snapshot()}
    assert loaded == {tuple(r) for r in rows}


def test_there_are_34_provincial_level_units_including_taiwan(regions: None) -> None:
    """34 provincial-level units: 23 provinces (Taiwan 710000 among them), 5 autonomous regions,
    4 municipalities and 2 SARs; all are roots and their own province zone."""
    provinces = Region.objects.filter(level=L.PROVINCE)
    assert provinces.count() == 34
    by_kind = dict(provinces.values_list("kind").annotate(n=Count("code")))
    assert by_kind == {
        K.PROVINCE: 23,
        K.AUTONOMOUS_REGION: 5,
        K.MUNICIPALITY: 4,
        K.SAR: 2,
    }
    taiwan = Region.objects.get(code="710000")
    assert (taiwan.name, taiwan.level, taiwan.kind) == ("台湾省", L.PROVINCE, K.PROVINCE)
    assert not provinces.exclude(parent__isnull=True).exists()
    assert all(p.province_id == p.code for p in provinces)


def test_there_are_exactly_333_prefecture_level_units(regions: None) -> None:
    """333 prefecture-level units: 293 cities, 7 prefectures (地区), 30 autonomous prefectures
    and 3 leagues (盟); each is its own city zone and hangs directly under a province."""
    prefectures = Region.objects.filter(level=L.PREFECTURE)
    assert prefectures.count() == 333
    by_kind = dict(prefectures.values_list("kind").annotate(n=Count("code")))
    assert by_kind == {
        K.PREFECTURE_CITY: 293,
        K.PREFECTURE: 7,
        K.AUTONOMOUS_PREFECTURE: 30,
        K.LEAGUE: 3,
    }
    for p in prefectures.select_related("parent"):
        assert p.zone_city_id == p.code
        assert p.parent is not None and p.parent.level == L.PROVINCE
        assert p.province_id == p.parent_id


@pytest.mark.parametrize(
    ("code", "name", "province"),
    [
        ("429004", "仙桃市", "420000"),
        ("419001", "济源市", "410000"),
        ("659001", "石河子市", "650000"),
        ("469001", "五指山市", "460000"),
    ],
)
def test_province_administered_county_units_are_their_own_city_zone(
    regions: None, code: str, name: str, province: str
) -> None:
    """A county-level unit run directly by a province is level county, its parent is the
    province, and it counts as its own city zone."""
    r = Region.objects.get(code=code)
    assert r.name == name
    assert r.level == L.COUNTY
    assert r.parent_id == province
    assert r.province_id == province
    assert r.zone_city_id == code


@pytest.mark.parametrize(
    ("code", "name"),
    [("110000", "北京市"), ("310000", "上海市"), ("120000", "天津市"), ("500000", "重庆市")],
)
def test_a_municipality_is_the_city_zone_of_itself_and_its_districts(
    regions: None, code: str, name: str
) -> None:
    """A municipality's city zone is itself, and so is the zone of every unit beneath it."""
    m = Region.objects.get(code=code)
    assert (m.name, m.kind, m.zone_city_id) == (name, K.MUNICIPALITY, code)
    below = Region.objects.filter(province_id=code).exclude(code=code)
    assert below.exists()
    assert not below.exclude(zone_city_id=code).exists()
    assert not below.exclude(level=L.COUNTY).exists()


def test_non_municipal_provinces_have_no_city_zone(regions: None) -> None:
    """Only municipalities are a city zone themselves; other provincial units have none."""
    others = Region.objects.filter(level=L.PROVINCE).exclude(kind=K.MUNICIPALITY)
    assert others.count() == 30
    assert not others.exclude(zone_city__isnull=True).exists()


def test_dingxi_has_anding_district_and_exactly_six_counties(regions: None) -> None:
    """甘肃省定西市 (621100) holds 安定区 and exactly the counties 通渭, 陇西, 渭源, 临洮, 漳县
    and 岷县; each counts in the 定西 city zone and the 甘肃 province zone."""
    dingxi = Region.objects.get(code="621100")
    assert (dingxi.name, dingxi.parent_id) == ("定西市", "620000")
    children = list(Region.objects.filter(parent=dingxi).order_by("code"))
    assert [c.name for c in children if c.kind == K.DISTRICT] == ["安定区"]
    assert sorted(c.name for c in children if c.kind == K.COUNTY) == sorted(
        ["通渭县", "陇西县", "渭源县", "临洮县", "漳县", "岷县"]
    )
    assert len(children) == 7
    assert {(c.zone_city_id, c.province_id, c.level) for c in children} == {
        ("621100", "620000", L.COUNTY)
    }


def test_shandong_has_dongying(regions: None) -> None:
    """山东省 holds the prefecture-level city 东营市 (370500)."""
    dongying = Region.objects.get(name="东营市")
    assert dongying.code == "370500"
    assert dongying.parent_id == "370000"
    assert Region.objects.get(code="370000").name == "山东省"


def test_xinjiang_has_urumqi_and_bayingolin_with_korla(regions: None) -> None:
    """新疆 (650000) holds 乌鲁木齐市 and 巴音郭楞蒙古自治州, and 库尔勒市 lies in the latter and
    counts in its city zone."""
    names = set(Region.objects.filter(parent_id="650000").values_list("name", flat=True))
    assert {"乌鲁木齐市", "巴音郭楞蒙古自治州"} <= names
    bayingolin = Region.objects.get(name="巴音郭楞蒙古自治州")
    assert bayingolin.kind == K.AUTONOMOUS_PREFECTURE
    korla = Region.objects.get(name="库尔勒市", parent=bayingolin)
    assert (korla.zone_city_id, korla.province_id) == (bayingolin.code, "650000")


def test_every_county_under_a_prefecture_counts_in_that_prefecture(regions: None) -> None:
    """A county-level unit under a prefecture has that prefecture as city zone and the
    prefecture's province as province zone."""
    counties = Region.objects.filter(level=L.COUNTY, parent__level=L.PREFECTURE)
    assert counties.count() > 2000
    assert not counties.exclude(zone_city=F("parent")).exists()
    assert not counties.exclude(province=F("parent__parent")).exists()


def test_every_region_has_a_province_zone_that_is_a_province(regions: None) -> None:
    """Every row's province zone is a provincial-level unit, and every non-province has a city
    zone that is a prefecture-level unit, a municipality or a province-administered county."""
    assert not Region.objects.exclude(province__level=L.PROVINCE).exists()
    non_provinces = Region.objects.exclude(level=L.PROVINCE)
    assert not non_provinces.filter(zone_city__isnull=True).exists()
    odd = non_provinces.exclude(zone_city__level=L.PREFECTURE).exclude(
        zone_city__kind=K.MUNICIPALITY
    )
    assert all(r.is_province_administered for r in odd)


def test_loading_twice_is_idempotent(regions: None) -> None:
    """Running regions_load() again (twice) changes nothing and reports the file's row count."""
    before = _snapshot()
    assert regions_load() == len(regions_data())
    assert regions_load() == len(regions_data())
    assert _snapshot() == before


def test_loading_repairs_changed_and_missing_rows(regions: None) -> None:
    """regions_load() restores an edited name and re-inserts a deleted leaf row."""
    before = _snapshot()
    Region.objects.filter(code="621102").update(name="改错的名字")
    Region.objects.filter(code="621126").delete()  # 岷县: a leaf nobody references
    regions_load()
    assert _snapshot() == before


def test_regions_command_loads_and_reports(regions: None) -> None:
    """`saidao regions load` reloads the data and prints how many rows it holds."""
    out = StringIO()
    call_command("regions", "load", stdout=out)
    assert out.getvalue().strip() == f"regions: {len(regions_data())} loaded"
    assert Region.objects.count() == len(regions_data())


def test_reload_repairs_a_changed_row(regions: None) -> None:
    """A region edited in the database is put back to the shipped data by the next load."""
    Region.objects.filter(code="621102").update(name="改错的名字")
    regions_load()
    assert Region.objects.get(code="621102").name == "安定区"
