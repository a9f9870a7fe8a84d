from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from saidao.campaigns.models import Campaign
from saidao.orgs.models import Organization
from saidao.regions.models import Region

from .models import ParticipationEvent


def participation_record(
    *,
    campaign: Campaign,
    worker: Any,
    kind: str,
    key: str,
    organization: Organization | None,
    zone_city: Region | None,
    value: int = 1,
) -> ParticipationEvent:
    """Append a participation event; idempotent on ``key`` (a second call returns the first).

    The zone's province is taken from the city zone, so callers pass one region.
    """
    existing = ParticipationEvent.objects.filter(key=key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return ParticipationEvent.objects.create(
                campaign=campaign,
                worker=worker,
                kind=kind,
                key=key,
                organization=organization,
                zone_city=zone_city,
                zone_province_id=zone_city.province_id if zone_city else None,
                value=value,
            )
    except IntegrityError:  # the same key recorded concurrently
        return ParticipationEvent.objects.get(key=key)
