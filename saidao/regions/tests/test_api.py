"""The public regions endpoints: the JSON list under /api/v1 and the htmx <option> fragment."""

from __future__ import annotations

from django.test import Client
from pytest_django import DjangoAssertNumQueries


def test_api_lists_the_seven_county_units_of_dingxi(
    client: Client, regions: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """GET /api/v1/regions?parent=621100 lists exactly 定西's 7 county-level units, each with
    its parent and city zone, anonymously, in two queries (the parent check and the list)."""
    with django_assert_num_queries(2):
        r = client.get("/api/v1/regions", {"parent": "621100"})
    assert r.status_code == 200
    body = r.json()
    assert [row["name"] for row in body] == [
        "安定区",
        "通渭县",
        "陇西县",
        "渭源县",
        "临洮县",
        "漳县",
        "岷县",
    ]
    assert body[0] == {
        "code": "621102",
        "name": "安定区",
        "level": "county",
        "kind": "district",
        "parent": "621100",
        "zone_city": "621100",
    }
    assert {(row["parent"], row["zone_city"], row["level"]) for row in body} == {
        ("621100", "621100", "county")
    }


def test_api_without_parent_lists_the_34_provinces(
    client: Client, regions: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """Without ``parent`` the endpoint lists the 34 provincial-level units in one query."""
    with django_assert_num_queries(1):
        r = client.get("/api/v1/regions")
    assert r.status_code == 200
    body = r.json()
    assert len(body) == 34
    assert {"code": "710000", "name": "台湾省"}.items() <= next(
        row for row in body if row["code"] == "710000"
    ).items()
    assert all(row["parent"] is None and row["level"] == "province" for row in body)
    beijing = next(row for row in body if row["code"] == "110000")
    assert beijing["zone_city"] == "110000"


def test_api_municipal_districts_count_in_the_municipality(client: Client, regions: None) -> None:
    """北京's 16 districts all list 北京 (110000) as their city zone."""
    body = client.get("/api/v1/regions", {"parent": "110000"}).json()
    assert len(body) == 16
    assert {row["zone_city"] for row in body} == {"110000"}


def test_api_unknown_parent_is_404_with_the_error_body(client: Client, regions: None) -> None:
    """An unknown parent code answers 404 with {"code","message","detail"}, naming the code."""
    r = client.get("/api/v1/regions", {"parent": "999999"})
    assert r.status_code == 404
    body = r.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == "not_found"
    assert "999999" in body["message"]
    assert body["detail"] == {"region": "999999"}


def test_city_options_for_chongqing_offer_chongqing_itself(client: Client, regions: None) -> None:
    """The htmx fragment for 重庆 offers the placeholder and 重庆市 (500000) only."""
    r = client.get("/regions/cities/", {"province": "500000"})
    assert r.status_code == 200
    html = r.content.decode()
    assert '<option value="500000">重庆市</option>' in html
    assert html.count("<option") == 2
    assert '<option value="">请选择城市</option>' in html


def test_city_options_for_hubei_include_xiantao(client: Client, regions: None) -> None:
    """The fragment for 湖北 (420000) includes 仙桃市 (429004) beside 武汉市."""
    html = client.get("/regions/cities/", {"province": "420000"}).content.decode()
    assert '<option value="429004">仙桃市</option>' in html
    assert '<option value="420100">武汉市</option>' in html
    assert html.count("<option") == 18  # placeholder + 17 city zones


def test_city_options_unknown_or_missing_province_offer_only_the_placeholder(
    client: Client, regions: None
) -> None:
    """An unknown or missing province gives just the placeholder rather than an error."""
    for query in ({"province": "999999"}, {}):
        r = client.get("/regions/cities/", query)
        assert r.status_code == 200
        assert r.content.decode().count("<option") == 1
