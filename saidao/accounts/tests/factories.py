from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.test import Client
from django.utils import timezone
from factory.declarations import LazyFunction, SubFactory
from factory.declarations import Sequence as FactorySequence
from factory.django import DjangoModelFactory, Password
from factory.faker import Faker
from openpyxl import Workbook

from saidao.accounts.models import Membership, User
from saidao.accounts.roster import ROSTER_COLUMNS

PASSWORD = "Passw0rd-test"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = FactorySequence(lambda n: f"135{n:08d}")
    real_name = Faker("name", locale="zh_CN")
    employer = "定西市某快递公司"
    position = "快递员"
    activated_at = LazyFunction(timezone.now)
    password = Password(PASSWORD)


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = SubFactory(UserFactory)
    source = Membership.Source.INVITE


def roster_xlsx(
    rows: Iterable[Sequence[Any]],
    *,
    header: Sequence[str] = ROSTER_COLUMNS,
    name: str = "roster.xlsx",
) -> io.BytesIO:
    """A real .xlsx roster built with openpyxl: the header row, then ``rows`` as they are
    (so a phone can be an ``int`` cell, and ``[]`` leaves a blank row)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(header))
    for r in rows:
        if r:
            ws.append(list(r))
        else:
            ws.append([None])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = name
    return buf


def api_token(client: Client, user: User, password: str = PASSWORD) -> str:
    """Log in through the API and return the bearer token."""
    resp = client.post(
        "/api/v1/auth/login",
        {"phone": user.phone, "password": password},
        content_type="application/json",
    )
    assert resp.status_code == 200, resp.content
    token = resp.json()["token"]
    assert isinstance(token, str)
    return token


def bearer(token: str) -> dict[str, str]:
    """Request headers carrying the token: ``client.get(url, headers=bearer(token))``."""
    return {"Authorization": f"Bearer {token}"}


def login_headers(client: Client, user: User) -> dict[str, str]:
    """Log ``user`` in through POST /api/v1/auth/login; the headers that carry the token."""
    return bearer(api_token(client, user))
