"""Writes for campaigns: creating one with its themes and phases, publishing, overriding."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from saidao.core import clock
from saidao.core.columns import values_check
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.services import audit_record
from saidao.orgs.models import Organization
from saidao.orgs.selectors import organization_in_scope

from .models import (
    ASKED_OPTIONAL,
    ASKED_REQUIRED,
    ENTRY_FORM_FIELDS,
    NOT_ASKED,
    Campaign,
    Phase,
    Theme,
    default_entry_form,
)


@dataclass(frozen=True)
class PhaseSpec:
    kind: str
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    entries_open: bool = False
    likes_open: bool = False
    quiz_open: bool = False


def _require_officer(*, actor: Any, organization: Organization) -> None:
    if not organization_in_scope(user=actor, organization=organization):
        raise OutsideScope(detail={"organization": organization.pk})


def _check_entry_form(form: dict[str, str]) -> dict[str, str]:
    merged = default_entry_form() | form
    unknown = sorted(set(merged) - set(ENTRY_FORM_FIELDS))
    bad = sorted(
        k for k, v in merged.items() if v not in (ASKED_REQUIRED, ASKED_OPTIONAL, NOT_ASKED)
    )
    if unknown or bad:
        raise InvalidInput.for_field(
            "entry_form",
            _("报名表设置有误：未知字段 %(unknown)s，取值错误 %(bad)s。")
            % {"unknown": ", ".join(unknown) or "-", "bad": ", ".join(bad) or "-"},
        )
    return merged


def _check_phases(phases: list[PhaseSpec]) -> None:
    errors = []
    for i, p in enumerate(phases, start=1):
        if p.kind not in Phase.Kind.values:
            errors.append(str(_("第 %(i)d 个阶段的类型无效。") % {"i": i}))
        if p.ends_at <= p.starts_at:
            errors.append(str(_("第 %(i)d 个阶段的结束时间必须晚于开始时间。") % {"i": i}))
    if errors:
        raise InvalidInput(detail={"fields": {"phases": errors}})


@transaction.atomic
def campaign_create(
    *,
    actor: Any,
    organizer: Organization,
    slug: str,
    title: str,
    description: str = "",
    rules: str = "",
    themes: list[str] | None = None,
    phases: list[PhaseSpec] | None = None,
    entry_form: dict[str, str] | None = None,
    entries_per_worker: int = 1,
    max_video_seconds: int = 120,
    max_file_mb: int = 500,
    publish: bool = False,
) -> Campaign:
    """An officer of the organizer (or above it) creates a campaign with its themes and phases."""
    _require_officer(actor=actor, organization=organizer)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [str(_("请填写活动标题。"))]
    if Campaign.objects.filter(slug=slug).exists():
        errors["slug"] = [str(_("网址标识“%(slug)s”已被使用。") % {"slug": slug})]
    if entries_per_worker < 1:
        errors["entries_per_worker"] = [str(_("每人可提交作品数至少为 1。"))]
    if max_video_seconds < 1 or max_file_mb < 1:
        errors["max_video_seconds"] = [str(_("视频时长和文件大小上限必须为正数。"))]
    try:
        values_check(
            Campaign,
            entries_per_worker=entries_per_worker,
            max_video_seconds=max_video_seconds,
            max_file_mb=max_file_mb,
        )
    except InvalidInput as exc:
        for name, messages in exc.detail["fields"].items():
            errors.setdefault(name, messages)
    if errors:
        raise InvalidInput(detail={"fields": errors})
    form = _check_entry_form(entry_form or {})
    _check_phases(phases or [])
    campaign = Campaign.objects.create(
        organizer=organizer,
        slug=slug,
        title=title.strip(),
        description=description,
        rules=rules,
        entry_form=form,
        entries_per_worker=entries_per_worker,
        max_video_seconds=max_video_seconds,
        max_file_mb=max_file_mb,
        status=Campaign.Status.PUBLISHED if publish else Campaign.Status.DRAFT,
    )
    Theme.objects.bulk_create(
        [Theme(campaign=campaign, position=i, title=t) for i, t in enumerate(themes or [], 1)]
    )
    Phase.objects.bulk_create(
        [
            Phase(
                campaign=campaign,
                position=i,
                kind=p.kind,
                title=p.title,
                starts_at=p.starts_at,
                ends_at=p.ends_at,
                entries_open=p.entries_open,
                likes_open=p.likes_open,
                quiz_open=p.quiz_open,
            )
            for i, p in enumerate(phases or [], 1)
        ]
    )
    audit_record(actor=actor, action="campaign.create", target=campaign)
    return campaign


@transaction.atomic
def campaign_publish(*, actor: Any, campaign: Campaign) -> Campaign:
    _require_officer(actor=actor, organization=campaign.organizer)
    if not campaign.phases.exists():
        raise InvalidInput(_("请先设置活动阶段再发布。"))
    campaign.status = Campaign.Status.PUBLISHED
    campaign.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="campaign.publish", target=campaign)
    return campaign


@transaction.atomic
def phase_override(*, actor: Any, phase: Phase, override: str, reason: str) -> Phase:
    """Force a phase open or closed (``override`` "open"/"closed"), or back to the clock ("")."""
    _require_officer(actor=actor, organization=phase.campaign.organizer)
    if override not in ("", *Phase.Override.values):
        raise InvalidInput.for_field("override", _("请选择强制开启、强制关闭或恢复按时间。"))
    if override and not reason.strip():
        raise InvalidInput.for_field("reason", _("请填写调整理由，它会记入审计日志。"))
    before = phase.override
    phase.override = override
    phase.override_by = actor if override else None
    phase.override_at = clock.now() if override else None
    phase.override_reason = reason.strip() if override else ""
    phase.save(
        update_fields=["override", "override_by", "override_at", "override_reason", "updated_at"]
    )
    audit_record(
        actor=actor,
        action="phase.override",
        target=phase,
        data={"from": before, "to": override, "reason": reason.strip()},
    )
    return phase
