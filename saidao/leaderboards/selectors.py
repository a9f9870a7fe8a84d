from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from saidao.campaigns.models import Campaign

from .models import ParticipationEvent


def participants_count(*, campaign: Campaign, kind: str | None = None) -> int:
    """Distinct workers who took part (a plain count until the aggregator exists)."""
    qs: QuerySet[ParticipationEvent] = ParticipationEvent.objects.filter(campaign=campaign)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.values("worker").distinct().count()


def participants_by_city(*, campaign: Campaign) -> list[dict[str, Any]]:
    """Distinct participants per city zone, most first."""
    qs = (
        ParticipationEvent.objects.filter(campaign=campaign, zone_city__isnull=False)
        .values("zone_city", "zone_city__name")
        .annotate(n=Count("worker", distinct=True))
        .order_by("-n", "zone_city")
    )
    return [dict(row) for row in qs]
