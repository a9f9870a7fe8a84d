"""Writes for entries: submit, receive the upload, process the video, review, report, like."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from saidao.accounts.models import Membership
from saidao.accounts.phones import is_mobile, normalize_phone
from saidao.campaigns.models import ASKED_REQUIRED, ENTRY_FORM_FIELDS, NOT_ASKED, Campaign, Theme
from saidao.campaigns.selectors import (
    campaign_get_published,
    campaign_require_member,
    phase_require,
)
from saidao.core import clock, tasks
from saidao.core.errors import InvalidInput, OutsideScope
from saidao.core.services import audit_record
from saidao.leaderboards.services import participation_record
from saidao.orgs.selectors import path_in_scope, role_paths
from saidao.regions.models import Region
from saidao.uploads.models import Upload
from saidao.video import errors as video_errors
from saidao.video import sandbox as video

from .errors import (
    AlreadyReported,
    EntryLimitReached,
    EntryNotPublic,
    EntryNotReviewable,
    NotAMember,
)
from .models import Entry, Like, Report
from .selectors import REVIEW_KINDS, campaign_member

# Reports from accounts younger than this are kept but do not count toward hiding an entry.
REPORTER_MIN_AGE = dt.timedelta(days=1)


def _required(form: dict[str, str], name: str) -> bool:
    return form.get(name) == ASKED_REQUIRED


def _asked(form: dict[str, str], name: str) -> bool:
    return form.get(name, NOT_ASKED) != NOT_ASKED


@transaction.atomic
def entry_submit(
    *,
    campaign: Campaign,
    worker: Any,
    real_name: str = "",
    mobile: str = "",
    employer: str = "",
    position: str = "",
    province: Region | None = None,
    city: Region | None = None,
    theme: Theme | None = None,
    title: str = "",
    description: str = "",
    consent_publish: bool,
    upload: Upload,
) -> Entry:
    """Register an entry with its video upload in the collection phase.

    The upload may still be in progress (an API client finishing it later): the entry then
    waits in "uploading" and processing starts when the upload completes. The entry counts in
    the zone of the chosen city (a municipality or a province-administered county-level city is
    its own city zone) and for the worker's current organization.
    """
    phase_require(campaign=campaign, switch="entries_open")
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=worker, left_at__isnull=True)
        .first()
    )
    organization = membership.organization if membership else None
    campaign_require_member(campaign=campaign, organization=organization)
    assert organization is not None
    form = campaign.entry_form
    values = {
        "real_name": real_name.strip(),
        "mobile": normalize_phone(mobile),
        "employer": employer.strip(),
        "position": position.strip(),
        "title": title.strip(),
        "description": description.strip(),
    }
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if _required(form, name) and not value:
            errors[name] = [str(_("请填写%(field)s。") % {"field": _label(name)})]
    if values["mobile"] and not is_mobile(values["mobile"]):
        errors["mobile"] = [str(_("请输入 11 位中国大陆手机号，例如 13812345678。"))]
    if len(values["title"]) > 60:
        errors["title"] = [str(_("作品标题不能超过 60 个字。"))]
    if len(values["description"]) > 500:
        errors["description"] = [str(_("作品简介不能超过 500 个字。"))]
    if theme is None and _required(form, "theme") and campaign.themes.exists():
        errors["theme"] = [str(_("请选择讲述主题。"))]
    elif theme is not None and theme.campaign_id != campaign.pk:
        errors["theme"] = [str(_("所选主题不属于本活动。"))]
    province = province or worker.province
    city = city or worker.city
    if province is None:
        errors["province"] = [str(_("请选择省份。"))]
    if city is None:
        errors["city"] = [str(_("请选择地级市。"))]
    elif province is not None and (
        city.province_id != province.code or city.zone_city_id != city.code
    ):
        errors["city"] = [
            str(_("所选城市不属于%(province)s，请重新选择。") % {"province": province.name})
        ]
    if (
        upload.owner_id != worker.pk
        or upload.purpose != "entry"
        or upload.status
        not in (
            Upload.Status.UPLOADING,
            Upload.Status.COMPLETE,
        )
    ):
        errors["upload"] = [str(_("请先上传作品视频。"))]
    elif Entry.objects.filter(upload=upload).exists():
        errors["upload"] = [str(_("这个视频已经用于另一件作品了。"))]
    elif upload.declared_size > campaign.max_file_bytes:
        errors["upload"] = [
            str(_("视频文件超过了本活动 %(mb)d MB 的上限。") % {"mb": campaign.max_file_mb})
        ]
    if not consent_publish:
        errors["consent_publish"] = [str(_("请同意公开展示您的肖像和声音，否则作品无法参赛。"))]
    if errors:
        raise InvalidInput(detail={"fields": errors})
    assert city is not None and province is not None
    used = set(
        Entry.objects.filter(campaign=campaign, worker=worker, slot__isnull=False).values_list(
            "slot", flat=True
        )
    )
    free = [s for s in range(1, campaign.entries_per_worker + 1) if s not in used]
    if not free:
        raise _limit(campaign)
    try:
        with transaction.atomic():
            entry = Entry.objects.create(
                campaign=campaign,
                worker=worker,
                slot=free[0],
                organization=organization,
                zone_province_id=city.province_id,
                zone_city=city,
                theme=theme,
                consent_publish=True,
                consent_at=clock.now(),
                upload=upload,
                status=Entry.Status.RECEIVED
                if upload.status == Upload.Status.COMPLETE
                else Entry.Status.UPLOADING,
                **values,
            )
    except IntegrityError:  # a concurrent submit took the slot (or the upload)
        raise _limit(campaign) from None
    if entry.status == Entry.Status.RECEIVED:
        tasks.enqueue("entries.process", entry_id=entry.pk)
    return entry


def _label(name: str) -> str:
    return str(ENTRY_FORM_FIELDS[name])


def _limit(campaign: Campaign) -> EntryLimitReached:
    return EntryLimitReached(
        _("每人最多提交 %(n)d 件作品，您已提交满了。") % {"n": campaign.entries_per_worker},
        detail={"entries_per_worker": campaign.entries_per_worker},
    )


def entry_upload_authorize(
    *, owner: Any, metadata: dict[str, Any], declared_size: int
) -> int | None:
    """Refuse an entry's video before any byte is stored, when the upload names its campaign:
    collection must be open and the file within the campaign's size limit (returned as the cap).
    """
    slug = metadata.get("campaign")
    if not slug:
        return None  # checked again when the entry is submitted
    campaign = campaign_get_published(slug=str(slug))
    phase_require(campaign=campaign, switch="entries_open")
    return campaign.max_file_bytes


@transaction.atomic
def entry_upload_completed(upload: Upload) -> None:
    """The handler for purpose "entry": an entry waiting for this upload is queued once.

    An upload finished before its entry was submitted has no entry yet; ``entry_submit``
    queues that one itself.
    """
    entry = Entry.objects.select_for_update().filter(upload=upload).first()
    if entry is None or entry.status != Entry.Status.UPLOADING:
        return
    entry.status = Entry.Status.RECEIVED
    entry.save(update_fields=["status", "updated_at"])
    tasks.enqueue("entries.process", entry_id=entry.pk)


def _local_copy(upload: Upload, tmp: Path) -> Path:
    """The uploaded file as a local path: itself on disk, a download from the bucket."""
    try:
        return Path(default_storage.path(upload.storage_key))
    except NotImplementedError:
        target = tmp / "source"
        with default_storage.open(upload.storage_key, "rb") as src, target.open("wb") as dst:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                dst.write(chunk)
        return target


def entry_process(*, entry_id: int) -> None:
    """Validate the video in the sandbox, make a poster and a phone-ready MP4, then wait for
    review. An unusable file makes the entry invalid (its slot is given back); our own failure
    raises, so the task is retried, and marks the entry failed meanwhile."""
    with transaction.atomic():
        entry = (
            Entry.objects.select_for_update(of=("self",))
            .select_related("campaign", "upload")
            .get(pk=entry_id)
        )
        if entry.status not in (Entry.Status.RECEIVED, Entry.Status.FAILED):
            return  # processed already: a repeated task changes nothing
        entry.status = Entry.Status.PROCESSING
        entry.attempts = F("attempts") + 1
        entry.save(update_fields=["status", "attempts", "updated_at"])
    assert entry.upload is not None
    try:
        with tempfile.TemporaryDirectory(prefix="saidao-entry-") as tmpdir:
            tmp = Path(tmpdir)
            source = _local_copy(entry.upload, tmp)
            try:
                probe = video.validate(source, max_duration_s=entry.campaign.max_video_seconds)
            except video_errors.VideoInvalid as e:
                _entry_invalid(entry_id, code=e.code, message=str(e.message))
                return
            poster_path, mp4_path = tmp / "poster.jpg", tmp / "video.mp4"
            duration = probe.duration_s or 0.0
            video.poster(source, poster_path, at_s=min(1.0, duration / 2))
            video.normalize(source, mp4_path)
            with transaction.atomic():
                entry = Entry.objects.select_for_update().get(pk=entry_id)
                with poster_path.open("rb") as fh:
                    entry.poster.save(f"{entry.pk}.jpg", File(fh), save=False)
                with mp4_path.open("rb") as fh:
                    entry.video.save(f"{entry.pk}.mp4", File(fh), save=False)
                entry.duration_s = duration
                entry.width, entry.height = probe.display_width, probe.display_height
                entry.status = Entry.Status.PENDING_REVIEW
                entry.save()
                participation_record(
                    campaign=entry.campaign,
                    worker=entry.worker,
                    kind="entry",
                    key=f"entry:{entry.pk}",
                    organization=entry.organization,
                    zone_city=entry.zone_city,
                )
    except Exception:
        Entry.objects.filter(pk=entry_id, status=Entry.Status.PROCESSING).update(
            status=Entry.Status.FAILED
        )
        raise


def _entry_invalid(entry_id: int, *, code: str, message: str) -> None:
    Entry.objects.filter(pk=entry_id).update(
        status=Entry.Status.INVALID,
        invalid_code=code,
        invalid_message=message[:200],
        slot=None,
    )


def _require_reviewer(*, actor: Any, entry: Entry) -> None:
    paths = role_paths(user=actor, kinds=REVIEW_KINDS)
    if not path_in_scope(path=entry.organization.path, paths=paths):
        raise OutsideScope(detail={"entry": entry.pk})


@transaction.atomic
def entries_review(
    *, actor: Any, entries: list[Entry], approve: bool, reason: str = ""
) -> list[Entry]:
    """Approve or reject entries (in bulk) that wait for review or were hidden by reports."""
    if not approve and not reason.strip():
        raise InvalidInput.for_field("reason", _("请填写未通过的理由，作者会看到它。"))
    now = clock.now()
    done = []
    for e in (
        Entry.objects.select_for_update()
        .select_related("organization")
        .filter(pk__in=[x.pk for x in entries])
    ):
        _require_reviewer(actor=actor, entry=e)
        reviewable = e.status == Entry.Status.PENDING_REVIEW or (
            e.status == Entry.Status.APPROVED and e.hidden
        )
        if not reviewable:
            raise EntryNotReviewable(detail={"entry": e.pk, "status": e.status})
        e.status = Entry.Status.APPROVED if approve else Entry.Status.REJECTED
        e.rejection_reason = "" if approve else reason.strip()
        e.hidden = False
        e.reports_count = 0  # the open reports are resolved below
        e.reviewed_by, e.reviewed_at = actor, now
        e.save(
            update_fields=[
                "status",
                "rejection_reason",
                "hidden",
                "reports_count",
                "reviewed_by",
                "reviewed_at",
                "updated_at",
            ]
        )
        e.reports.filter(resolved_at__isnull=True).update(resolved_at=now)
        audit_record(
            actor=actor,
            action="entry.approve" if approve else "entry.reject",
            target=e,
            data={"reason": reason.strip()} if not approve else {},
        )
        done.append(e)
    return done


def _require_member(*, user: Any, campaign: Campaign) -> None:
    if not campaign_member(user=user, campaign=campaign):
        raise NotAMember(
            _("点赞和举报仅限%(org)s及其下级工会的会员。请先用邀请码加入您所在的工会组织。")
            % {"org": campaign.organizer.name},
            detail={"campaign": campaign.slug},
        )


@transaction.atomic
def entry_report(*, reporter: Any, entry: Entry, reason: str, note: str = "") -> Report:
    """Report a public entry as a member of a union in the campaign's scope, once per member.

    A report counts toward hiding when the reporter's account is at least ``REPORTER_MIN_AGE``
    old; ``Entry.reports_count`` holds the open counting reports, and when it reaches
    ``SAIDAO_REPORTS_TO_HIDE`` the entry is hidden until a reviewer looks again. Reports from
    newer accounts are kept for the reviewers and count for nothing. The entry's row is locked
    while the report is added, so concurrent reports are each counted once.
    """
    _require_member(user=reporter, campaign=entry.campaign)
    entry = Entry.objects.select_for_update().get(pk=entry.pk)
    if not entry.is_public:
        raise EntryNotPublic(detail={"entry": entry.pk})
    if reason not in Report.Reason.values:
        raise InvalidInput.for_field("reason", _("请选择举报理由。"))
    counted = reporter.date_joined <= clock.now() - REPORTER_MIN_AGE
    try:
        with transaction.atomic():
            report = Report.objects.create(
                entry=entry,
                reporter=reporter,
                reason=reason,
                note=note.strip()[:200],
                counted=counted,
            )
    except IntegrityError:
        raise AlreadyReported(detail={"entry": entry.pk}) from None
    if counted:
        entry.reports_count = F("reports_count") + 1
        entry.save(update_fields=["reports_count", "updated_at"])
        entry.refresh_from_db(fields=["reports_count"])
        if entry.reports_count >= settings.SAIDAO_REPORTS_TO_HIDE:
            Entry.objects.filter(pk=entry.pk).update(hidden=True)
    return report


def entry_like(*, worker: Any, entry: Entry) -> bool:
    """Like a public entry while likes are open, as a member of a union in the campaign's
    scope; liking twice changes nothing.

    Returns whether a like was added. Safe under concurrent clicks: the unique constraint
    decides, and the counter moves only for the insert that won.
    """
    phase_require(campaign=entry.campaign, switch="likes_open")
    if not entry.is_public:
        raise EntryNotPublic(detail={"entry": entry.pk})
    _require_member(user=worker, campaign=entry.campaign)
    try:
        with transaction.atomic():
            Like.objects.create(entry=entry, worker=worker)
            Entry.objects.filter(pk=entry.pk).update(likes_count=F("likes_count") + 1)
    except IntegrityError:
        return False
    return True
