"""Small helpers shared by the orgs tests: API log-in and applying through the service."""

from __future__ import annotations

from typing import Any

from django.test import Client

from saidao.accounts.tests.factories import login_headers
from saidao.orgs import services
from saidao.orgs.models import Organization
from saidao.orgs.tests.factories import valid_credit_code
from saidao.regions.models import Region


def bearer(client: Client, user: Any) -> dict[str, str]:
    """Log ``user`` in through the API; the headers that carry the token."""
    return login_headers(client, user)


def apply(
    applicant: Any,
    parent: Organization,
    name: str = "安定区某快递公司工会",
    *,
    level: str = Organization.Level.GRASSROOTS,
    region: str = "621102",
    credit_code: str | None = None,
) -> Organization:
    """A pending application under ``parent``, made through organization_apply."""
    return services.organization_apply(
        applicant=applicant,
        parent=parent,
        name=name,
        level=level,
        kind=Organization.Kind.ENTERPRISE,
        region=Region.objects.get(code=region),
        credit_code=credit_code or valid_credit_code(region),
        contact_name="申请人",
        contact_phone="13800000000",
    )


def apply_payload(parent: Organization, **overrides: Any) -> dict[str, Any]:
    """A valid JSON body for POST /api/v1/orgs/apply under ``parent``."""
    body: dict[str, Any] = {
        "parent_id": parent.pk,
        "name": "安定区某物流公司工会",
        "level": Organization.Level.GRASSROOTS,
        "kind": Organization.Kind.ENTERPRISE,
        "region_code": "621102",
        "credit_code": valid_credit_code("621102"),
        "contact_name": "申请人",
        "contact_phone": "13800000000",
    }
    body.update(overrides)
    return body
