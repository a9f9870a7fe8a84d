from __future__ import annotations

import random
from typing import Any

from factory.declarations import Sequence
from factory.django import DjangoModelFactory

from saidao.orgs.models import InviteCode, Organization, Role
from saidao.orgs.services import organization_create
from saidao.orgs.validators import credit_code_check_char
from saidao.regions.models import Region

_rng = random.Random(7)


def valid_credit_code(region: str = "621100") -> str:
    body = "81" + region + f"{_rng.randrange(10**9):09d}"
    return body + credit_code_check_char(body)


def make_org(
    parent: Organization | None = None,
    name: str | None = None,
    *,
    level: str | None = None,
    kind: str = Organization.Kind.FEDERATION,
    region: str = "621100",
    status: str = Organization.Status.APPROVED,
    applied_by: Any = None,
) -> Organization:
    """An organization created through the service, so its path is real."""
    if level is None:
        level = Organization.Level.NATIONAL if parent is None else Organization.Level.GRASSROOTS
    return organization_create(
        parent=parent,
        name=name or f"测试工会{_rng.randrange(10**6)}",
        level=level,
        kind=kind,
        region=Region.objects.get(code=region),
        credit_code=valid_credit_code(region),
        contact_name="联系人",
        contact_phone="0932-1234567",
        status=status,
        applied_by=applied_by,
    )


class RoleFactory(DjangoModelFactory[Role]):
    class Meta:
        model = Role

    kind = Role.Kind.OFFICER


class InviteCodeFactory(DjangoModelFactory[InviteCode]):
    class Meta:
        model = InviteCode

    code = Sequence(lambda n: f"TEST{n:04d}")
