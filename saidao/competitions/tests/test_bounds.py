"""Weights, years, positions and amounts are checked against their columns before the
database, by the API and by the services, with translated field errors; and one program
stored with a number its column cannot give back does not take the lists down."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.competitions import services
from saidao.competitions.errors import RuleInvalid
from saidao.competitions.models import Competition, Program
from saidao.competitions.tests.factories import make_program
from saidao.conftest import Tree
from saidao.core.errors import InvalidInput

pytestmark = pytest.mark.django_db
API = "/api/v1"


def post(client: Client, url: str, headers: dict[str, str], data: object) -> object:
    return client.post(API + url, data, content_type="application/json", headers=headers)


def test_a_weight_no_column_can_hold_is_refused_and_the_lists_stay_up(
    client: Client, tree: Tree
) -> None:
    """total_weight 1e30 is a 422 naming the field with its bound; nothing is stored, and the
    listings of the officers above still answer."""
    h = login_headers(client, tree.other_officer)
    resp = client.post(
        f"{API}/competition-programs",
        f'{{"organization_id": {tree.dongying.pk}, "name": "P", "total_weight": 1e30}}',
        content_type="application/json",
        headers=h,
    )
    assert resp.status_code == 422, resp.content
    assert resp.json()["detail"]["fields"] == {"total_weight": ["不能大于 999999.99。"]}
    assert not Program.objects.exists()
    national = login_headers(client, tree.national_officer)
    assert client.get(f"{API}/competition-programs", headers=national).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("year", 40000),
        ("year", -1),
        ("total_weight", 0),
        ("total_weight", "NaN"),
        ("total_weight", "-1"),
    ],
)
def test_program_numbers_out_of_range_are_refused(
    client: Client, tree: Tree, field: str, value: object
) -> None:
    """Years and weights outside the column or its CHECK constraint: 422 with the field."""
    h = login_headers(client, tree.other_officer)
    body = {"organization_id": tree.dongying.pk, "name": "P", field: value}
    resp = client.post(
        f"{API}/competition-programs", body, content_type="application/json", headers=h
    )
    assert resp.status_code == 422, resp.content
    assert field in resp.json()["detail"]["fields"]


def test_competition_indicator_and_bracket_numbers_are_bounded(client: Client, tree: Tree) -> None:
    """Positions, award counts, bonus pools, weights and points beyond their columns: 422."""
    program, category = make_program(tree)
    h = login_headers(client, tree.other_officer)
    comp = client.post(
        f"{API}/competition-categories/{category.pk}/competitions",
        {
            "name": "C",
            "participant_kind": "unit",
            "period_kind": "month",
            "award_top_n": 70000,
            "bonus_pool": "1e20",
        },
        content_type="application/json",
        headers=h,
    )
    assert comp.status_code == 422, comp.content
    assert set(comp.json()["detail"]["fields"]) == {"award_top_n", "bonus_pool"}
    cat = client.post(
        f"{API}/competition-programs/{program.pk}/categories",
        {"name": "X", "position": 70000},
        content_type="application/json",
        headers=h,
    )
    assert cat.status_code == 422 and "position" in cat.json()["detail"]["fields"]
    competition = services.competition_create(
        actor=tree.other_officer,
        category=category,
        name="C",
        participant_kind="unit",
        period_kind="month",
    )
    ind = client.post(
        f"{API}/competitions/{competition.pk}/indicators",
        {"code": "a", "name": "A", "rule": "attainment", "weight": "1e7", "full_marks": "1e11"},
        content_type="application/json",
        headers=h,
    )
    assert ind.status_code == 422, ind.content
    assert set(ind.json()["detail"]["fields"]) == {"weight", "full_marks"}
    bracket = client.post(
        f"{API}/competitions/{competition.pk}/brackets",
        {"name": "B", "position": -1},
        content_type="application/json",
        headers=h,
    )
    assert bracket.status_code == 422


def test_the_services_check_the_same_bounds(tree: Tree) -> None:
    """Callers other than the API (pages, imports, scripts) meet the same bounds in the
    services, as InvalidInput naming the field, on SQLite as on PostgreSQL."""
    with pytest.raises(InvalidInput) as exc:
        services.program_create(
            actor=tree.other_officer, organization=tree.dongying, name="P", year=40000
        )
    assert exc.value.detail["fields"] == {"year": ["不能大于 32767。"]}
    with pytest.raises(InvalidInput) as exc:
        services.program_create(
            actor=tree.other_officer,
            organization=tree.dongying,
            name="P",
            total_weight=Decimal("1e30"),
        )
    assert list(exc.value.detail["fields"]) == ["total_weight"]
    program, category = make_program(tree)
    with pytest.raises(InvalidInput) as exc:
        services.category_create(
            actor=tree.other_officer, program=program, name="X", position=40000
        )
    assert list(exc.value.detail["fields"]) == ["position"]
    with pytest.raises(InvalidInput) as exc:
        services.competition_create(
            actor=tree.other_officer,
            category=category,
            name="C",
            participant_kind="unit",
            period_kind="month",
            bonus_rule="rank_shares",
            bonus_shares=["100"],
            bonus_pool=Decimal("1e15"),
        )
    assert list(exc.value.detail["fields"]) == ["bonus_pool"]
    competition = services.competition_create(
        actor=tree.other_officer,
        category=category,
        name="C",
        participant_kind="unit",
        period_kind="month",
    )
    with pytest.raises(RuleInvalid) as rule:
        services.indicator_create(
            actor=tree.other_officer,
            competition=competition,
            code="a",
            name="A",
            rule="attainment",
            weight="10000000",
            target=100,
        )
    assert "weight" in rule.value.detail["fields"]
    assert not competition.indicators.exists()


@pytest.fixture
def a_program_with_an_unreadable_weight(tree: Tree) -> Program:
    """A program whose weight was stored before the checks existed: SQLite keeps 1e30 in a
    column of 8 digits, and Django cannot convert it back."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses such a value when it is written")
    program, category = make_program(tree)
    competition = services.competition_create(
        actor=tree.other_officer,
        category=category,
        name="C",
        participant_kind="unit",
        period_kind="month",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Program._meta.db_table} SET total_weight = 1e30 WHERE id = %s",  # noqa: S608
            [program.pk],
        )
        cursor.execute(
            f"UPDATE {Competition._meta.db_table} SET bonus_pool = 1e30 WHERE id = %s",  # noqa: S608
            [competition.pk],
        )
    return program


def test_a_stored_number_beyond_its_column_does_not_take_the_lists_down(
    client: Client,
    tree: Tree,
    a_program_with_an_unreadable_weight: Program,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The program lists of the API and of the pages answer for every officer above it, the
    bad program shown with its weight as stored (so it can be found and fixed), and a log line
    naming it; its competitions list answers too."""
    program = a_program_with_an_unreadable_weight
    for officer in (tree.other_officer, tree.national_officer):
        h = login_headers(client, officer)
        with caplog.at_level(logging.WARNING, logger="saidao.core.columns"):
            resp = client.get(f"{API}/competition-programs", headers=h)
        assert resp.status_code == 200, resp.content
        [row] = resp.json()
        assert row["id"] == program.pk
        assert Decimal(row["total_weight"]) == Decimal("1e30")
        assert any(str(program.pk) in r.getMessage() for r in caplog.records)
        detail = client.get(f"{API}/competition-programs/{program.pk}", headers=h)
        assert detail.status_code == 200, detail.content
        comps = client.get(f"{API}/competition-programs/{program.pk}/competitions", headers=h)
        assert comps.status_code == 200, comps.content
        assert Decimal(comps.json()[0]["bonus_pool"]) == Decimal("1e30")
    client.force_login(tree.national_officer)
    page = client.get("/competitions/")
    assert page.status_code == 200
    assert program.name in page.content.decode()
