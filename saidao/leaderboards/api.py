"""The leaderboard API under /api/v1/campaigns/{campaign_id}/leaderboard/.

Who reads what:

- ``summary``, ``zones`` and ``top?by=count`` are public for a published campaign (the big
  screen's public numbers); a draft campaign answers only its organizer's officers.
- Member counts and rates are an officer's business: in every row, ``members`` and ``rate`` are
  null unless the reader is an officer whose scope holds that organization.
- ``top?by=rate`` (the order itself reveals rates) needs an officer: of ``parent`` when given,
  else of the organizer; ``rank``, ``window`` and ``children`` need an officer of the
  organization asked about. Outside the scope: 404, as everywhere.

Every JSON answer carries an ETag (a hash of the aggregator's watermark, the member snapshot's
time, the campaign's rank epoch, the request's path and parameters and the reader's scope) and
answers 304 to a matching If-None-Match.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router

from saidao.accounts.api import optional_auth
from saidao.campaigns.models import Campaign
from saidao.campaigns.selectors import campaign_get_for_officer
from saidao.core.api_types import Id
from saidao.core.errors import InvalidInput, NotAuthenticated, NotFound
from saidao.core.sheets import Sheet, xlsx_bytes
from saidao.orgs.models import Organization
from saidao.orgs.selectors import officer_paths, organization_get_for_officer, path_in_scope

from . import selectors
from .aggregator import WATERMARK
from .models import TALLY_KINDS, MemberSnapshot, OrgTally, Watermark
from .ranks import read_epoch

# Rankings are public; an organization's own rank, window and children are for its officers
# (the API's default credentials), the rest also for anyone (``optional_auth``).
router = Router(tags=["leaderboards"])
PREFIX = "/campaigns/{campaign_id}/leaderboard"
MAX_LIMIT = 500
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
WindowSize = Annotated[int, Field(ge=0, le=50)]


def _reader(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _campaign(request: HttpRequest, campaign_id: Id) -> Campaign:
    campaign = Campaign.objects.select_related("organizer").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(detail={"campaign": campaign_id})
    if campaign.status != Campaign.Status.PUBLISHED:
        campaign = campaign_get_for_officer(user=_reader(request), pk=campaign_id)
    return campaign


def _kind(kind: str) -> str:
    if kind not in TALLY_KINDS:
        raise InvalidInput.for_field("kind", _("类型只能是 entry、quiz 或 all。"))
    return kind


def _level(level: str | None) -> str | None:
    if level and level not in Organization.Level.values:
        raise InvalidInput.for_field("level", _("没有这个组织层级。"))
    return level or None


def _officer_org(request: HttpRequest, org_id: Id) -> Organization:
    if _reader(request) is None:
        raise NotAuthenticated()
    return organization_get_for_officer(user=request.user, pk=org_id)


def _rows(request: HttpRequest, rows: list[selectors.Row]) -> list[dict[str, Any]]:
    """Rows as JSON; member counts and rates only for organizations in the reader's scope."""
    paths = officer_paths(user=_reader(request))
    org_paths = dict(
        Organization.objects.filter(pk__in=[r.organization_id for r in rows]).values_list(
            "pk", "path"
        )
    )
    out = []
    for r in rows:
        mine = path_in_scope(path=org_paths.get(r.organization_id, "~"), paths=paths)
        out.append(
            {
                "rank": r.rank,
                "organization_id": r.organization_id,
                "name": r.name,
                "level": r.level,
                "participants": r.participants,
                "members": r.members if mine else None,
                "rate": r.rate if mine else None,
                "reached_at": r.reached_at.isoformat(),
            }
        )
    return out


def _etag(request: HttpRequest, campaign: Campaign) -> str:
    mark = Watermark.objects.filter(name=WATERMARK).values_list("last_id", flat=True).first()
    taken = MemberSnapshot.objects.filter(campaign=campaign).aggregate(t=Max("taken_at"))["t"]
    scope = ",".join(officer_paths(user=_reader(request)))
    params = "&".join(f"{k}={v}" for k, v in sorted(request.GET.items()))
    # The epoch moves when tallies are rewritten outside the aggregator (reconcile --repair,
    # rebuild-ranks), which leaves the watermark where it was.
    epoch = read_epoch(campaign.pk)
    raw = f"{mark or 0}|{taken}|{epoch}|{request.path}|{params}|{scope}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def _matches(request: HttpRequest, etag: str) -> bool:
    header = request.headers.get("If-None-Match", "")
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag in tags or "*" in tags


def _cache_headers(request: HttpRequest, response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = (
        "private, max-age=0, must-revalidate" if _reader(request) else "public, max-age=2"
    )
    response["Vary"] = "Authorization, Cookie"
    return response


def _cached(request: HttpRequest, campaign: Campaign, build: Any) -> HttpResponse:
    """``build()``'s JSON with an ETag, or 304 when the client has it already."""
    etag = _etag(request, campaign)
    if _matches(request, etag):
        return _cache_headers(request, HttpResponse(status=304), etag)
    body = json.dumps(build(), ensure_ascii=False, separators=(",", ":"))
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return _cache_headers(request, response, etag)


def _top_rows(
    request: HttpRequest,
    campaign: Campaign,
    by: Literal["count", "rate"],
    kind: str,
    level: str | None,
    parent: Id | None,
    limit: int,
) -> list[selectors.Row]:
    parent_org = None
    if by == "rate":
        if parent is not None:
            parent_org = _officer_org(request, parent)
        else:
            _officer_org(request, campaign.organizer_id)
    elif parent is not None:
        parent_org = Organization.objects.filter(pk=parent).first()
        if parent_org is None or not parent_org.path.startswith(campaign.organizer.path):
            raise NotFound(detail={"organization": parent})
    return selectors.top(
        campaign=campaign,
        by=by,
        kind=_kind(kind),
        level=_level(level),
        parent=parent_org,
        limit=max(1, min(limit, MAX_LIMIT)),
    )


@router.get(f"{PREFIX}/summary", **optional_auth())
def leaderboard_summary(request: HttpRequest, campaign_id: Id, kind: str = "all") -> HttpResponse:
    """Distinct participants of the whole campaign (and per kind), provinces reached."""
    campaign = _campaign(request, campaign_id)

    def build() -> dict[str, Any]:
        provinces = selectors.participants_by_province(campaign=campaign, kind=_kind(kind))
        return {
            "campaign_id": campaign.pk,
            "participants": selectors.participants_count(campaign=campaign, kind=kind),
            "entry": selectors.participants_count(campaign=campaign, kind="entry"),
            "quiz": selectors.participants_count(campaign=campaign, kind="quiz"),
            "provinces": len(provinces),
        }

    return _cached(request, campaign, build)


@router.get(f"{PREFIX}/top", **optional_auth())
def leaderboard_top(
    request: HttpRequest,
    campaign_id: Id,
    by: Literal["count", "rate"] = "count",
    kind: str = "all",
    level: str | None = None,
    parent: Id | None = None,
    limit: Limit = 50,
) -> HttpResponse:
    """The first ``limit`` organizations by participants or by rate, of a level or among the
    children of ``parent``."""
    campaign = _campaign(request, campaign_id)
    rows = _top_rows(request, campaign, by, kind, level, parent, limit)
    return _cached(request, campaign, lambda: {"by": by, "rows": _rows(request, rows)})


@router.get(f"{PREFIX}/top.xlsx", **optional_auth())
def leaderboard_top_xlsx(
    request: HttpRequest,
    campaign_id: Id,
    by: Literal["count", "rate"] = "count",
    kind: str = "all",
    level: str | None = None,
    parent: Id | None = None,
    limit: Limit = MAX_LIMIT,
) -> HttpResponse:
    """The same ranking as ``top``, as an .xlsx workbook; anyone may download it, so names
    are written as text cells only (see ``xlsx_bytes``)."""
    campaign = _campaign(request, campaign_id)
    rows = _rows(request, _top_rows(request, campaign, by, kind, level, parent, limit))
    header = [_("名次"), _("组织"), _("层级"), _("参与人数"), _("会员数"), _("参与率")]
    lines = [
        [
            r["rank"],
            r["name"],
            str(Organization.Level(r["level"]).label),
            r["participants"],
            r["members"],
            round(r["rate"], 4) if r["rate"] is not None else None,
        ]
        for r in rows
    ]
    response = HttpResponse(
        xlsx_bytes(Sheet(_("排行"), header, lines)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="leaderboard-{campaign.pk}-{by}.xlsx"'
    response["Cache-Control"] = "private, no-store" if _reader(request) else "public, max-age=5"
    return response


@router.get(f"{PREFIX}/rank/{{org_id}}")
def leaderboard_rank(
    request: HttpRequest, campaign_id: Id, org_id: Id, kind: str = "all"
) -> HttpResponse:
    """An organization's rank by participants among its level and among its siblings."""
    campaign = _campaign(request, campaign_id)
    org = _officer_org(request, org_id)

    def build() -> dict[str, Any]:
        level = selectors.rank_of(campaign=campaign, organization=org, kind=_kind(kind))
        siblings = selectors.rank_of(
            campaign=campaign, organization=org, kind=kind, among="siblings"
        )
        members = selectors.members_of(campaign=campaign, organization_ids=[org.pk]).get(org.pk, 0)
        participants = (
            OrgTally.objects.filter(campaign=campaign, organization=org, kind=kind)
            .values_list("subtree", flat=True)
            .first()
        ) or 0
        return {
            "organization_id": org.pk,
            "name": org.name,
            "level": {"rank": level[0], "of": level[1]} if level else None,
            "siblings": {"rank": siblings[0], "of": siblings[1]} if siblings else None,
            "participants": participants,
            "members": members,
            "rate": participants / members if members else None,
        }

    return _cached(request, campaign, build)


@router.get(f"{PREFIX}/window/{{org_id}}")
def leaderboard_window(
    request: HttpRequest,
    campaign_id: Id,
    org_id: Id,
    by: Literal["count", "rate"] = "count",
    kind: str = "all",
    size: WindowSize = 5,
) -> HttpResponse:
    """The rows around an organization in its level's ranking."""
    campaign = _campaign(request, campaign_id)
    org = _officer_org(request, org_id)
    size = max(0, min(size, 50))
    return _cached(
        request,
        campaign,
        lambda: {
            "by": by,
            "rows": _rows(
                request,
                selectors.window(
                    campaign=campaign, organization=org, by=by, kind=_kind(kind), size=size
                ),
            ),
        },
    )


@router.get(f"{PREFIX}/children/{{org_id}}")
def leaderboard_children(
    request: HttpRequest, campaign_id: Id, org_id: Id, kind: str = "all"
) -> HttpResponse:
    """An organization's sub-organizations by rate, worst first."""
    campaign = _campaign(request, campaign_id)
    org = _officer_org(request, org_id)
    return _cached(
        request,
        campaign,
        lambda: {
            "rows": _rows(
                request, selectors.children_by_rate(campaign=campaign, parent=org, kind=_kind(kind))
            )
        },
    )


@router.get(f"{PREFIX}/zones", **optional_auth())
def leaderboard_zones(
    request: HttpRequest,
    campaign_id: Id,
    level: Literal["province", "city"] = "province",
    kind: str = "all",
) -> HttpResponse:
    """Participants per province, or per prefecture-level city zone, most first."""
    campaign = _campaign(request, campaign_id)
    read = (
        selectors.participants_by_province
        if level == "province"
        else selectors.participants_by_city
    )
    return _cached(
        request,
        campaign,
        lambda: {
            "level": level,
            "rows": [
                {"region": r["region_id"], "name": r["region__name"], "participants": r["n"]}
                for r in read(campaign=campaign, kind=_kind(kind))
            ],
        },
    )
