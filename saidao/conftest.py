"""Shared fixtures: a small real tree matching the demo's shape.

中华全国总工会 → 甘肃省总工会 → 定西市总工会 → 安定区总工会 → 安定区快递行业工会联合会
                                              → 通渭县总工会
              → 山东省总工会 → 东营市总工会
Officers: one of 定西市 (city_officer), one of 东营市 (other_officer), one national.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.utils import translation

from saidao.accounts.models import Membership, User
from saidao.accounts.tests.factories import MembershipFactory, UserFactory
from saidao.orgs.models import Organization, Role
from saidao.orgs.tests.factories import make_org

L = Organization.Level


@dataclass
class Tree:
    national: Organization
    gansu: Organization
    dingxi: Organization
    anding: Organization
    courier: Organization
    tongwei: Organization
    shandong: Organization
    dongying: Organization
    city_officer: User
    other_officer: User
    national_officer: User
    anding_member: Membership
    dongying_member: Membership


@pytest.fixture
def connections_closed_after_each_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests of the ASGI application: its pool threads outlive the test, and with their
    connections kept between requests they would still hold the test database open when it is
    dropped at the end of the run (PostgreSQL refuses)."""
    from django.db import connections

    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test ends in the default language: a request with the English cookie activates
    English on the thread (LanguageMiddleware), and tests after it would read English."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def tree(regions: None) -> Tree:
    national = make_org(None, "中华全国总工会", level=L.NATIONAL, region="110000")
    gansu = make_org(national, "甘肃省总工会", level=L.PROVINCIAL, region="620000")
    dingxi = make_org(gansu, "定西市总工会", level=L.CITY, region="621100")
    anding = make_org(dingxi, "安定区总工会", level=L.COUNTY, region="621102")
    courier = make_org(anding, "安定区快递行业工会联合会", level=L.GRASSROOTS, region="621102")
    tongwei = make_org(dingxi, "通渭县总工会", level=L.COUNTY, region="621121")
    shandong = make_org(national, "山东省总工会", level=L.PROVINCIAL, region="370000")
    dongying = make_org(shandong, "东营市总工会", level=L.CITY, region="370500")
    city_officer = UserFactory.create(real_name="定西干部")
    other_officer = UserFactory.create(real_name="东营干部")
    national_officer = UserFactory.create(real_name="全总干部")
    Role.objects.create(organization=dingxi, user=city_officer, kind=Role.Kind.OFFICER)
    Role.objects.create(organization=dongying, user=other_officer, kind=Role.Kind.OFFICER)
    Role.objects.create(organization=national, user=national_officer, kind=Role.Kind.OFFICER)
    return Tree(
        national=national,
        gansu=gansu,
        dingxi=dingxi,
        anding=anding,
        courier=courier,
        tongwei=tongwei,
        shandong=shandong,
        dongying=dongying,
        city_officer=city_officer,
        other_officer=other_officer,
        national_officer=national_officer,
        anding_member=MembershipFactory.create(organization=courier),
        dongying_member=MembershipFactory.create(organization=dongying),
    )


@pytest.fixture
def widths(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The width of every row openpyxl's read-only worksheet builds while the test runs: the
    imports' tests prove a stray far cell does not widen them."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    seen: list[int] = []
    original = ReadOnlyWorksheet._cells_by_row  # type: ignore[attr-defined]

    def counting(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for row in original(self, *args, **kwargs):
            seen.append(len(row))
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    return seen
