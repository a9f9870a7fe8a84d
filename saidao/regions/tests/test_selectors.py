"""Reads of the regions table: one region, a level of children, the city zones of a province."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from saidao.core.errors import NotFound
from saidao.regions.models import Region
from saidao.regions.selectors import region_children, region_cities, region_get


def test_region_get_returns_the_region_with_its_zones(
    regions: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """region_get loads the region with parent, province and city zone in one query."""
    with django_assert_num_queries(1):
        r = region_get(code="621102")
        assert r.parent is not None and r.zone_city is not None
        assert (r.name, r.parent.name, r.province.name) == ("安定区", "定西市", "甘肃省")
        assert r.zone_city.name == "定西市"


@pytest.mark.parametrize("code", ["999999", "62110", ""])
def test_region_get_unknown_code_is_not_found_and_names_the_code(regions: None, code: str) -> None:
    """An unknown code raises NotFound whose message quotes the code and asks for 6 digits."""
    with pytest.raises(NotFound) as info:
        region_get(code=code)
    assert f"“{code}”" in str(info.value.message)
    assert "6 位" in str(info.value.message)
    assert info.value.detail == {"region": code}


def test_region_children_without_parent_are_the_34_provinces(regions: None) -> None:
    """With no parent, the children are the 34 provincial-level units in code order."""
    codes = list(region_children(parent=None).values_list("code", flat=True))
    assert len(codes) == 34
    assert codes == sorted(codes)
    assert {"110000", "620000", "650000", "710000", "810000", "820000"} <= set(codes)


def test_region_children_of_dingxi_are_its_seven_county_units(regions: None) -> None:
    """定西市's children are 安定区 and its six counties, in code order."""
    names = [r.name for r in region_children(parent="621100")]
    assert names == ["安定区", "通渭县", "陇西县", "渭源县", "临洮县", "漳县", "岷县"]


def test_region_children_of_a_leaf_is_empty(regions: None) -> None:
    """A county-level unit has no children, which is an empty result rather than an error."""
    assert list(region_children(parent="621102")) == []


def test_region_children_of_an_unknown_parent_is_not_found(regions: None) -> None:
    """Asking for the children of a code that does not exist raises NotFound."""
    with pytest.raises(NotFound) as info:
        region_children(parent="123456")
    assert "123456" in str(info.value.message)


def test_region_cities_of_a_municipality_is_the_municipality_itself(regions: None) -> None:
    """A worker in 重庆 picks 重庆市 as city: the municipality is its own city zone."""
    assert [(c.code, c.name) for c in region_cities(province="500000")] == [("500000", "重庆市")]


def test_region_cities_of_hubei_include_province_administered_units(regions: None) -> None:
    """湖北's cities are its 13 prefecture-level units plus 仙桃, 潜江, 天门 and 神农架林区,
    never a district of a prefecture nor the province itself."""
    cities = {c.code: c.name for c in region_cities(province="420000")}
    assert cities["429004"] == "仙桃市"
    assert {"420100", "429005", "429006", "429021"} <= set(cities)
    assert "420102" not in cities  # 江岸区 belongs to 武汉
    assert "420000" not in cities
    assert len(cities) == 17


def test_region_cities_of_gansu_are_its_14_prefecture_level_units(regions: None) -> None:
    """甘肃 has 12 prefecture-level cities and 2 autonomous prefectures, 定西 among them."""
    cities = list(region_cities(province="620000"))
    assert len(cities) == 14
    assert "定西市" in {c.name for c in cities}
    assert {c.level for c in cities} == {Region.Level.PREFECTURE}


def test_region_cities_of_xinjiang_include_corps_cities(regions: None) -> None:
    """新疆's city zones include 乌鲁木齐, 巴音郭楞 and the corps city 石河子 (a county unit)."""
    names = {c.name for c in region_cities(province="650000")}
    assert {"乌鲁木齐市", "巴音郭楞蒙古自治州", "石河子市"} <= names
    assert "库尔勒市" not in names


def test_region_cities_of_hainan_include_wuzhishan(regions: None) -> None:
    """Hainan runs 五指山市 directly, so it is one of Hainan's city zones."""
    assert "五指山市" in {c.name for c in region_cities(province="460000")}


def test_region_cities_of_an_unknown_province_is_not_found(regions: None) -> None:
    """An unknown province code raises NotFound."""
    with pytest.raises(NotFound):
        region_cities(province="000000")
