"""Out-of-range numbers, ids, lengths and bodies of the wrong shape are refused by the REST API
with a 400 or 422 in the project's {"code","message","detail"} before they reach the database,
every list has a maximum page size, and the OpenAPI document states each bound."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DataError, IntegrityError
from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.config.api import api
from saidao.conftest import Tree
from saidao.core.api_types import MAX_BIGINT, MAX_PAGE_SIZE

pytestmark = pytest.mark.django_db
API = "/api/v1"
HUGE = "99999999999999999999"


def _refused(resp: Any, field: str) -> dict[str, Any]:
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "invalid" and body["message"]
    assert field in body["detail"]["fields"], body
    return dict(body)


def test_offsets_and_limits_out_of_range_are_refused_anonymously(client: Client) -> None:
    """Offsets past 2^63 or below zero and page sizes above the maximum answer 422 naming the
    parameter, for anonymous callers too (the directory, a campaign's gallery)."""
    _refused(client.get(f"{API}/orgs/directory?offset={HUGE}"), "offset")
    _refused(client.get(f"{API}/orgs/directory?offset=-1"), "offset")
    _refused(client.get(f"{API}/orgs/directory?limit={MAX_PAGE_SIZE + 1}"), "limit")
    _refused(client.get(f"{API}/orgs/directory?limit=0"), "limit")
    _refused(client.get(f"{API}/campaigns/none/gallery?limit={HUGE}"), "limit")
    body = _refused(client.get(f"{API}/orgs/directory?offset={HUGE}"), "offset")
    assert body["detail"]["fields"]["offset"] == [f"不能大于 {MAX_BIGINT}。"]


def test_the_largest_offset_answers_an_empty_page(client: Client, tree: Tree) -> None:
    """The bound itself is a valid offset: an empty page, not a database error."""
    resp = client.get(f"{API}/orgs/directory?offset={MAX_BIGINT}&limit={MAX_PAGE_SIZE}")
    assert resp.status_code == 200, resp.content
    assert resp.json()["items"] == []


def test_hand_paged_lists_are_bounded(client: Client, tree: Tree) -> None:
    """Lists paged by hand (the question bank, a contest's leaderboard) refuse a negative
    offset and a page above their maximum."""
    h = login_headers(client, tree.city_officer)
    _refused(client.get(f"{API}/quiz/questions?offset=-1", headers=h), "offset")
    _refused(client.get(f"{API}/quiz/questions?offset={HUGE}", headers=h), "offset")
    _refused(client.get(f"{API}/quiz/questions?limit={HUGE}", headers=h), "limit")
    _refused(client.get(f"{API}/quiz/contests/1/leaderboard?offset=-1"), "offset")


def test_ids_past_64_bits_are_refused_in_paths_and_bodies(client: Client, tree: Tree) -> None:
    """An id no column can hold is a 422 wherever it is sent, not a database error."""
    h = login_headers(client, tree.national_officer)
    put = client.put(
        f"{API}/quiz/attempts/{HUGE}/answers/1",
        {"choice": "A", "seq": 1},
        content_type="application/json",
        headers=h,
    )
    _refused(put, "attempt_id")
    review = client.post(
        f"{API}/review",
        f'{{"entry_ids": [{HUGE}], "approve": true}}',
        content_type="application/json",
        headers=h,
    )
    _refused(review, "entry_ids.0")
    _refused(client.get(f"{API}/orgs/{HUGE}", headers=h), "org_id")
    _refused(client.get(f"{API}/orgs/0", headers=h), "org_id")
    program = client.post(
        f"{API}/competition-programs",
        f'{{"organization_id": {HUGE}, "name": "P"}}',
        content_type="application/json",
        headers=h,
    )
    _refused(program, "organization_id")


def test_positions_and_counts_beyond_their_columns_are_refused(client: Client, tree: Tree) -> None:
    """A phase position, a contest's time limit or tries beyond the column: 422, field named."""
    h = login_headers(client, tree.national_officer)
    resp = client.post(
        f"{API}/campaigns/x/phases/70000/override",
        {"override": "open"},
        content_type="application/json",
        headers=h,
    )
    _refused(resp, "position")
    resp = client.post(
        f"{API}/quiz/contests",
        {"campaign": "x", "title": "t", "rules": [], "tries_per_day": 70000},
        content_type="application/json",
        headers=h,
    )
    _refused(resp, "tries_per_day")


def test_strings_longer_than_their_column_are_refused(client: Client, tree: Tree) -> None:
    """SQLite would store a 5,000-character name in a 100-character column: the API refuses it
    first, naming the field and its limit."""
    h = login_headers(client, tree.city_officer)
    resp = client.post(
        f"{API}/orgs/apply",
        {
            "parent_id": tree.dingxi.pk,
            "name": "名" * 5000,
            "level": "grassroots",
            "kind": "enterprise",
            "region_code": "621102",
            "credit_code": "91621102MA00000000",
            "contact_name": "张三",
            "contact_phone": "13800000000",
        },
        content_type="application/json",
        headers=h,
    )
    body = _refused(resp, "name")
    assert body["detail"]["fields"]["name"] == ["最多 100 个字符。"]


@pytest.mark.parametrize("raw", ["[]", '"x"', "null", "1", "true"])
def test_a_body_that_is_not_an_object_is_refused(client: Client, tree: Tree, raw: str) -> None:
    """A JSON body of the wrong type is a 422, even for a schema whose fields all have
    defaults (ninja would read a list as an object with none of them)."""
    h = login_headers(client, tree.city_officer)
    for url in (f"{API}/competition-programs", f"{API}/competition-help/1"):
        method = client.post if url.endswith("programs") else client.put
        resp = method(url, raw, content_type="application/json", headers=h)
        _refused(resp, "body")


def test_a_body_that_is_not_json_is_a_400(client: Client, tree: Tree) -> None:
    """Broken JSON: 400 with a translated message, in the project's shape."""
    h = login_headers(client, tree.city_officer)
    resp = client.post(
        f"{API}/competition-programs", "{", content_type="application/json", headers=h
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_json" and resp.json()["detail"] == {}


def test_a_malformed_multipart_boundary_is_a_400_in_the_usual_shape(
    client: Client, tree: Tree
) -> None:
    """Django's multipart parser refuses the boundary; the API says so as JSON."""
    h = login_headers(client, tree.city_officer)
    resp = client.post(
        f"{API}/competition-reports/1/evidence",
        b"--x\r\nbroken",
        content_type="multipart/form-data; boundary=",
        headers=h,
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "bad_multipart"


@pytest.mark.parametrize(
    "exc",
    [
        DataError("numeric field overflow"),
        IntegrityError('new row violates check constraint "x"'),
        IntegrityError("CHECK constraint failed: x"),
        OverflowError("Python int too large to convert to SQLite INTEGER"),
    ],
)
def test_database_errors_from_bad_input_are_a_400(
    client: Client, tree: Tree, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> None:
    """The safety net: a value the checks missed and the database refused is the input's
    fault, a 400 in the usual shape, not a 500."""
    from saidao.competitions import services

    def refuse(**kwargs: Any) -> None:
        raise exc

    monkeypatch.setattr(services, "program_create", refuse)
    h = login_headers(client, tree.other_officer)
    resp = client.post(
        f"{API}/competition-programs",
        {"organization_id": tree.dongying.pk, "name": "P"},
        content_type="application/json",
        headers=h,
    )
    assert resp.status_code == 400, resp.content
    assert resp.json()["code"] == "invalid" and resp.json()["detail"] == {}


def test_a_unique_clash_is_not_hidden_by_the_safety_net(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only CHECK violations are the input's fault; other integrity errors stay server errors
    (they point at a missing check or a race to fix)."""
    from saidao.competitions import services

    def clash(**kwargs: Any) -> None:
        raise IntegrityError("UNIQUE constraint failed: x")

    monkeypatch.setattr(services, "program_create", clash)
    client = Client(raise_request_exception=False)
    h = login_headers(client, tree.other_officer)
    resp = client.post(
        f"{API}/competition-programs",
        {"organization_id": tree.dongying.pk, "name": "P"},
        content_type="application/json",
        headers=h,
    )
    assert resp.status_code == 500


# --- the OpenAPI document states every bound ----------------------------------------------------


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return dict(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    return schema


def _unbounded(doc: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    """Strings without maxLength and numbers without a maximum, anywhere inside ``schema``."""
    schema = _resolve(doc, schema)
    found: list[str] = []
    branches = schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", [])
    # A decimal is a number or its text: the number carries the bound.
    decimal = any(_resolve(doc, b).get("type") == "number" for b in branches)
    for branch in branches:
        if decimal and _resolve(doc, branch).get("type") == "string":
            continue
        found += _unbounded(doc, branch, where)
    kind = schema.get("type")
    free = schema.get("format") in ("binary", "date", "date-time", "uuid") or "enum" in schema
    if kind == "string" and "maxLength" not in schema and not free:
        found.append(f"{where} (string without maxLength)")
    if kind in ("integer", "number") and "maximum" not in schema:
        found.append(f"{where} ({kind} without maximum)")
    if kind == "array":
        found += _unbounded(doc, schema.get("items", {}), f"{where}[]")
    for name, prop in schema.get("properties", {}).items():
        found += _unbounded(doc, prop, f"{where}.{name}")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        found += _unbounded(doc, extra, f"{where}{{}}")
    return found


def _operations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    ]


def test_every_input_schema_bounds_its_strings_and_numbers() -> None:
    """Each string of every request body has a maxLength and each number a maximum, so a new
    endpoint cannot forget them."""
    doc = api.get_openapi_schema()
    found: list[str] = []
    for name, op in _operations(doc):
        for content in op.get("requestBody", {}).get("content", {}).values():
            found += _unbounded(doc, content["schema"], f"{name} body")
    assert found == []


def test_every_integer_parameter_has_bounds() -> None:
    """Path and query integers (ids, offsets, limits, positions) state their range."""
    doc = api.get_openapi_schema()
    found = [
        f"{name} {param['name']}"
        for name, op in _operations(doc)
        for param in op.get("parameters", [])
        for schema in [param["schema"], *param["schema"].get("anyOf", [])]
        if schema.get("type") == "integer" and "maximum" not in schema
    ]
    assert found == []


def test_every_paginated_list_has_a_maximum_page_size() -> None:
    """A list taking ``limit`` documents a maximum no larger than the project's page size
    (the leaderboards' exports excepted, which have their own)."""
    doc = api.get_openapi_schema()
    limits = {
        name: param["schema"]
        for name, op in _operations(doc)
        for param in op.get("parameters", [])
        if param["name"] == "limit"
    }
    assert "GET /api/v1/orgs/directory" in limits
    for name, schema in limits.items():
        assert "maximum" in schema, name
        if "leaderboard" not in name:
            assert schema["maximum"] <= MAX_PAGE_SIZE, name
    offsets = [
        param["schema"]
        for _name, op in _operations(doc)
        for param in op.get("parameters", [])
        if param["name"] == "offset"
    ]
    assert offsets and all(s["minimum"] == 0 and s["maximum"] == MAX_BIGINT for s in offsets)
