"""Numbers are checked against their columns in the services, with PostgreSQL's bounds on
SQLite too, so pages, imports and scripts meet the same refusal as the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from saidao.campaigns import services as campaigns
from saidao.campaigns.models import Campaign, Phase
from saidao.competitions.models import Program
from saidao.conftest import Tree
from saidao.core.columns import values_check
from saidao.core.errors import InvalidInput
from saidao.quizzes import services as quizzes
from saidao.quizzes.models import Contest


def test_values_within_their_columns_pass() -> None:
    """The largest value each column holds, and None, are accepted."""
    values_check(Program, year=32767, total_weight=Decimal("999999.99"))
    values_check(Phase, position=1)
    values_check(Program, year=None)


@pytest.mark.parametrize(
    ("model", "field", "value", "message"),
    [
        (Program, "year", 32768, "不能大于 32767。"),
        (Program, "year", -1, "不能小于 0。"),
        (Program, "total_weight", Decimal("1e30"), "不能大于 999999.99。"),
        (Program, "total_weight", Decimal("1000000"), "不能大于 999999.99。"),
        (Program, "total_weight", Decimal("NaN"), "请填写数字。"),
        (Phase, "position", 70000, "不能大于 32767。"),
        (Contest, "time_limit_s", 2**31, "不能大于 2147483647。"),
        (Campaign, "max_file_mb", "x", "请填写整数。"),
    ],
)
def test_values_beyond_their_columns_are_refused(
    model: type, field: str, value: object, message: str
) -> None:
    """Each is an InvalidInput naming the field with a translated message."""
    with pytest.raises(InvalidInput) as exc:
        values_check(model, **{field: value})
    assert exc.value.detail == {"fields": {field: [message]}}


@pytest.mark.django_db
def test_a_campaign_with_settings_beyond_their_columns_is_refused(tree: Tree) -> None:
    """Entries per worker and file limits beyond their columns: field errors, nothing saved."""
    with pytest.raises(InvalidInput) as exc:
        campaigns.campaign_create(
            actor=tree.city_officer,
            organizer=tree.dingxi,
            slug="big",
            title="T",
            entries_per_worker=40000,
            max_file_mb=2**40,
        )
    assert set(exc.value.detail["fields"]) == {"entries_per_worker", "max_file_mb"}
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_a_contest_with_settings_beyond_their_columns_is_refused(tree: Tree) -> None:
    """A time limit or tries per day beyond their columns are field errors of the settings."""
    campaign = campaigns.campaign_create(
        actor=tree.city_officer, organizer=tree.dingxi, slug="quiz", title="T"
    )
    with pytest.raises(InvalidInput) as exc:
        quizzes.contest_create(
            actor=tree.city_officer,
            campaign=campaign,
            title="C",
            rules=[quizzes.RuleSpec(count=1, points=1)],
            time_limit_s=2**40,
            tries_per_day=40000,
        )
    assert set(exc.value.detail["fields"]) == {"time_limit_s", "tries_per_day"}
    assert not Contest.objects.exists()
