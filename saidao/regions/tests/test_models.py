"""The Region model: its database constraints, its string form and its derived properties."""

from __future__ import annotations

import pytest
from django.db import DataError, IntegrityError, transaction

from saidao.regions.models import Region


def test_every_loaded_code_is_six_digits(regions: None) -> None:
    """Every GB/T 2260 code in the table is exactly six ASCII digits."""
    codes = list(Region.objects.values_list("code", flat=True))
    assert len(codes) > 3000
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in codes)


@pytest.mark.parametrize("code", ["62110", "6211000", "62110A", "ABCDEF"])
def test_database_refuses_a_code_that_is_not_six_digits(regions: None, code: str) -> None:
    """The database rejects malformed codes: the region_code_six_digits check constraint (or,
    on PostgreSQL, the varchar(6) length for a code that is too long)."""
    gansu = Region.objects.get(code="620000")
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Region.objects.create(
            code=code,
            name="不存在",
            level=Region.Level.PREFECTURE,
            kind=Region.Kind.PREFECTURE_CITY,
            parent=gansu,
            province=gansu,
        )


def test_database_refuses_a_non_province_without_parent(regions: None) -> None:
    """Only provinces may be roots: a prefecture without a parent breaks a check constraint."""
    gansu = Region.objects.get(code="620000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(
            code="629900",
            name="无上级",
            level=Region.Level.PREFECTURE,
            kind=Region.Kind.PREFECTURE_CITY,
            parent=None,
            province=gansu,
        )


def test_database_refuses_a_province_with_a_parent(regions: None) -> None:
    """A province-level unit must have no parent."""
    gansu = Region.objects.get(code="620000")
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(
            code="990000",
            name="有上级的省",
            level=Region.Level.PROVINCE,
            kind=Region.Kind.PROVINCE,
            parent=gansu,
            province=gansu,
        )


def test_str_shows_name_and_code(regions: None) -> None:
    """A region prints as its name followed by its code in full-width brackets."""
    assert str(Region.objects.get(code="621100")) == "定西市（621100）"


@pytest.mark.parametrize("code", ["429004", "419001", "659001", "469001", "469025"])
def test_province_administered_units_are_recognised(regions: None, code: str) -> None:
    """仙桃, 济源, 石河子, 五指山 and Hainan's 白沙黎族自治县 are run directly by a province."""
    assert Region.objects.get(code=code).is_province_administered is True


@pytest.mark.parametrize(
    "code",
    [
        "620000",  # a province
        "621100",  # a prefecture-level city
        "621102",  # a district under a prefecture
        "110101",  # a district of a municipality: its zone is the municipality, not itself
        "652801",  # a county-level city under an autonomous prefecture
    ],
)
def test_other_units_are_not_province_administered(regions: None, code: str) -> None:
    """Provinces, prefectures, ordinary counties and municipal districts are not."""
    assert Region.objects.get(code=code).is_province_administered is False


def test_regions_are_ordered_by_code(regions: None) -> None:
    """The default ordering is by code, so listings follow the GB/T 2260 order."""
    first = list(Region.objects.values_list("code", flat=True)[:3])
    assert first == sorted(first)
    assert first[0] == "110000"
