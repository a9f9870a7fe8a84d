from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from saidao.accounts.models import Membership
from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.services import audit_record
from saidao.orgs.models import Organization
from saidao.orgs.selectors import organization_in_scope
from saidao.regions.models import Region

from .aggregator import roll_up
from .models import MemberSnapshot, ParticipationEvent
from .ranks import ranks_invalidate
from .runner import ensure_embedded_aggregator, notify_participation


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
            notify_participation()  # delivered on commit: wakes a scaled aggregator
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
    finally:
        transaction.on_commit(ensure_embedded_aggregator)


@transaction.atomic
def participation_void(*, actor: Any, event: ParticipationEvent, reason: str) -> ParticipationEvent:
    """Void a participation for abuse: append a compensating event; nothing is deleted.

    The officer must administer the organization the participation counted for.
    """
    if event.voids_id is not None:
        raise InvalidInput(_("作废记录本身不能再作废。"))
    if not reason.strip():
        raise InvalidInput.for_field("reason", _("请填写作废理由，它会记入审计日志。"))
    if event.organization is None or not organization_in_scope(
        user=actor, organization=event.organization
    ):
        raise OutsideScope(detail={"event": event.pk})
    void, _created = ParticipationEvent.objects.get_or_create(
        key=f"void:{event.pk}",
        defaults={
            "campaign_id": event.campaign_id,
            "worker_id": event.worker_id,
            "organization_id": event.organization_id,
            "zone_province_id": event.zone_province_id,
            "zone_city_id": event.zone_city_id,
            "kind": event.kind,
            "value": -event.value,
            "voids": event,
        },
    )
    audit_record(actor=actor, action="participation.void", target=event, data={"reason": reason})
    notify_participation()
    transaction.on_commit(ensure_embedded_aggregator)
    return void


@transaction.atomic
def member_snapshot_take(*, campaign: Campaign, actor: Any = None) -> int:
    """Freeze every organization's member count (own and subtree) for this campaign's rates.

    Taken once when collection opens (by the aggregator) and refreshed by an officer of the
    organizer, which the audit log keeps. Returns how many organizations have members.
    """
    if actor is not None and not organization_in_scope(user=actor, organization=campaign.organizer):
        raise OutsideScope(detail={"campaign": campaign.pk})
    own = dict(
        Membership.objects.filter(left_at__isnull=True)
        .values("organization_id")
        .annotate(n=Count("id"))
        .values_list("organization_id", "n")
    )
    # The aggregator's roll-up: only the organizations with members and their ancestors.
    rolled = roll_up({(campaign.pk, org, "members"): n for org, n in own.items()})
    subtree = {org: sub for (_c, org, _k), (_own, sub) in rolled.items()}
    now = clock.now()
    MemberSnapshot.objects.filter(campaign=campaign).delete()
    MemberSnapshot.objects.bulk_create(
        [
            MemberSnapshot(
                campaign=campaign,
                organization_id=org,
                own=own.get(org, 0),
                subtree=n,
                taken_at=now,
            )
            for org, n in subtree.items()
        ],
        batch_size=1000,
    )
    ranks_invalidate(campaign_id=campaign.pk)  # rates changed: every index reloads it
    if actor is not None:
        audit_record(
            actor=actor,
            action="member_snapshot.refresh",
            target=campaign,
            data={"orgs": len(subtree)},
        )
    return len(subtree)


def member_snapshots_ensure(*, campaign_ids: set[int]) -> None:
    """Take the snapshot of campaigns that have none yet (their first participation)."""
    for campaign_id in campaign_ids:
        # one indexed probe per campaign (a DISTINCT over the snapshot would read every row)
        if not MemberSnapshot.objects.filter(campaign_id=campaign_id).exists():
            member_snapshot_take(campaign=Campaign.objects.get(pk=campaign_id))
