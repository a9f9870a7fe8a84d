"""The quizzes API under /api/v1/quiz/.

Officers (their subtree only; outside it 404): the bank (list, create, read, edit, archive,
import a file, the template, export) and contests (create, settings, results by organization,
also as .xlsx). Workers: a contest's rules and their tries left, start (or resume) an attempt,
its paper, saving an answer, submitting, the result, the leaderboard. A paper never carries the
correct answers; the result carries them only after submitting and when the contest allows.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from saidao.accounts import token_cache
from saidao.accounts.api import BearerAuth, optional_auth, session_auth
from saidao.accounts.models import ApiToken, User
from saidao.campaigns.selectors import (
    campaign_get_for_officer,
    campaign_switches,
    campaigns_for_officer,
)
from saidao.core import clock
from saidao.core.api import ImportJobOut, import_job_out
from saidao.core.api_types import Id, Offset, PageSize, Position
from saidao.core.errors import InvalidInput, NotFound
from saidao.core.imports import import_goes_background
from saidao.orgs.selectors import organization_get_for_officer

from . import selectors, services
from .models import Attempt, Contest, Question
from .schemas import (
    AnswerIn,
    AnswerOut,
    ContestIn,
    ContestMeOut,
    ContestOut,
    ContestPatch,
    LeaderboardOut,
    OrgAverageOut,
    OrgResultOut,
    PaperOut,
    QuestionImportOut,
    QuestionIn,
    QuestionOut,
    RankOut,
    ResultOut,
    RuleOut,
    SubmitIn,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


router = Router(tags=["quizzes"])
MAX_LIMIT = 200


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _question_out(q: Question) -> QuestionOut:
    return QuestionOut(
        id=q.pk,
        organization_id=q.organization_id,
        kind=q.kind,
        stem=q.stem,
        options=q.options,
        answer=q.answer,
        category=q.category,
        difficulty=q.difficulty,
        explanation=q.explanation,
        source=q.source,
        version=q.current_version.number if q.current_version else 0,
        times_used=q.times_used,
        archived=q.archived_at is not None,
    )


def _file_response(body: bytes, *, name: str, fmt: str) -> HttpResponse:
    resp = HttpResponse(body, content_type=CSV if fmt == "csv" else XLSX)
    resp["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp


def _fmt(fmt: str) -> str:
    if fmt not in ("xlsx", "csv"):
        raise InvalidInput.for_field("fmt", _("格式只能是 xlsx 或 csv。"))
    return fmt


# --- bank -----------------------------------------------------------------------------------


@router.get("/quiz/questions", response=list[QuestionOut])
def questions_list(
    request: HttpRequest,
    organization: Id | None = None,
    category: str | None = None,
    archived: bool = False,
    limit: PageSize = 100,
    offset: Offset = 0,
) -> list[QuestionOut]:
    """The banks of the caller's subtree (or one organization's), with answers."""
    org = organization_get_for_officer(user=request.user, pk=organization) if organization else None
    qs = selectors.questions_for_officer(
        user=request.user, organization=org, category=category, include_archived=archived
    )
    limit = max(1, min(limit, MAX_LIMIT))
    return [_question_out(q) for q in qs[offset : offset + limit]]


@router.post("/quiz/questions", response={201: QuestionOut})
def questions_create(request: HttpRequest, payload: QuestionIn) -> Status[QuestionOut]:
    if payload.organization_id is None:
        raise InvalidInput.for_field("organization_id", _("请选择题库所属的组织。"))
    org = organization_get_for_officer(user=request.user, pk=payload.organization_id)
    q = services.question_create(
        actor=_user(request),
        organization=org,
        kind=payload.kind,
        stem=payload.stem,
        options=payload.options,
        answer=payload.answer,
        category=payload.category,
        difficulty=payload.difficulty,
        explanation=payload.explanation,
        source=payload.source,
    )
    return Status(201, _question_out(q))


@router.get("/quiz/questions/template")
def questions_template(request: HttpRequest, fmt: str = "xlsx") -> HttpResponse:
    """The import template (题型, 题干, 选项A…选项F, 答案, 分类, 难度, 解析) with examples."""
    fmt = _fmt(fmt)
    return _file_response(services.question_template(fmt=fmt), name="question-template", fmt=fmt)


@router.get("/quiz/questions/export")
def questions_export(request: HttpRequest, organization: Id, fmt: str = "xlsx") -> HttpResponse:
    """An organization's bank in the template's columns (importable again)."""
    fmt = _fmt(fmt)
    org = organization_get_for_officer(user=request.user, pk=organization)
    questions = list(selectors.questions_for_officer(user=request.user, organization=org))
    return _file_response(
        services.questions_export(questions=questions, fmt=fmt), name=f"questions-{org.pk}", fmt=fmt
    )


@router.post("/quiz/questions/import", response={201: QuestionImportOut, 202: ImportJobOut})
def questions_import(
    request: HttpRequest, file: File[UploadedFile], organization: Form[Id]
) -> Status[QuestionImportOut] | Status[ImportJobOut]:
    """Import an .xlsx or CSV file: every question or none. On errors (400, code
    ``question_import_invalid``) ``detail.errors`` lists each with row, column and message.
    A large file is imported in the background: 202 with the job, to poll at its ``url``."""
    org = organization_get_for_officer(user=request.user, pk=organization)
    if import_goes_background(file, filename=file.name or "", csv_ok=True):
        job = services.questions_import_start(actor=_user(request), organization=org, file=file)
        return Status(202, import_job_out(job))
    questions = services.questions_import(
        actor=_user(request), organization=org, file=file, filename=file.name or ""
    )
    return Status(201, QuestionImportOut(imported=len(questions)))


@router.get("/quiz/questions/{question_id}", response=QuestionOut)
def questions_get(request: HttpRequest, question_id: Id) -> QuestionOut:
    return _question_out(selectors.question_get_for_officer(user=request.user, pk=question_id))


@router.put("/quiz/questions/{question_id}", response=QuestionOut)
def questions_update(request: HttpRequest, question_id: Id, payload: QuestionIn) -> QuestionOut:
    """Edit a question; when papers have drawn it, they keep the version they drew."""
    q = selectors.question_get_for_officer(user=request.user, pk=question_id)
    q = services.question_update(
        actor=_user(request),
        question=q,
        kind=payload.kind,
        stem=payload.stem,
        options=payload.options,
        answer=payload.answer,
        category=payload.category,
        difficulty=payload.difficulty,
        explanation=payload.explanation,
        source=payload.source,
    )
    return _question_out(q)


@router.delete("/quiz/questions/{question_id}", response={204: None})
def questions_archive(request: HttpRequest, question_id: Id) -> Status[None]:
    q = selectors.question_get_for_officer(user=request.user, pk=question_id)
    services.question_archive(actor=_user(request), question=q)
    return Status(204, None)


# --- contests -------------------------------------------------------------------------------


def _contest_out(c: Contest) -> ContestOut:
    rules = list(c.rules.all())
    return ContestOut(
        id=c.pk,
        campaign=c.campaign.slug,
        title=c.title,
        description=c.description,
        organizer=c.campaign.organizer.name,
        time_limit_s=c.time_limit_s,
        grace_s=c.grace_s,
        tries_per_day=c.tries_per_day,
        counted=c.counted,
        pass_score=c.pass_score,
        max_score=sum(r.count * r.points for r in rules),
        partial_credit=c.partial_credit,
        reveal=c.reveal,
        certificate=c.certificate,
        questions=sum(r.count for r in rules),
        rules=[
            RuleOut(count=r.count, points=r.points, category=r.category, difficulty=r.difficulty)
            for r in rules
        ],
        quiz_open=campaign_switches(campaign=c.campaign).quiz_open,
    )


@router.post("/quiz/contests", response={201: ContestOut})
def contests_create(request: HttpRequest, payload: ContestIn) -> Status[ContestOut]:
    """A contest in one of the caller's campaigns (its quiz phase opens and closes it)."""
    campaign = campaigns_for_officer(user=request.user).filter(slug=payload.campaign).first()
    if campaign is None:
        raise NotFound(detail={"campaign": payload.campaign})
    campaign = campaign_get_for_officer(user=request.user, pk=campaign.pk)
    bank = (
        organization_get_for_officer(user=request.user, pk=payload.bank_id)
        if payload.bank_id
        else None
    )
    data = payload.dict(exclude={"campaign", "rules", "bank_id", "title"})
    contest = services.contest_create(
        actor=_user(request),
        campaign=campaign,
        title=payload.title,
        bank=bank,
        rules=[services.RuleSpec(**r.dict()) for r in payload.rules],
        **data,
    )
    return Status(
        201, _contest_out(selectors.contest_get_for_officer(user=request.user, pk=contest.pk))
    )


@router.patch("/quiz/contests/{contest_id}", response=ContestOut)
def contests_update(request: HttpRequest, contest_id: Id, payload: ContestPatch) -> ContestOut:
    contest = selectors.contest_get_for_officer(user=request.user, pk=contest_id)
    data = payload.dict(exclude_unset=True, exclude={"rules", "bank_id"})
    data = {k: v for k, v in data.items() if v is not None}
    bank = (
        organization_get_for_officer(user=request.user, pk=payload.bank_id)
        if payload.bank_id
        else None
    )
    rules = (
        [services.RuleSpec(**r.dict()) for r in payload.rules]
        if payload.rules is not None
        else None
    )
    services.contest_update(actor=_user(request), contest=contest, rules=rules, bank=bank, **data)
    return _contest_out(selectors.contest_get_for_officer(user=request.user, pk=contest_id))


@router.get("/quiz/contests/{contest_id}", response=ContestOut, **optional_auth())
def contests_get(request: HttpRequest, contest_id: Id) -> ContestOut:
    """A contest's rules and settings (public for a published campaign)."""
    return _contest_out(selectors.contest_get(pk=contest_id))


def _certificate_code(contest: Contest, worker: User) -> str | None:
    from saidao.certificates.models import Certificate

    cert = Certificate.objects.filter(
        source=services.certificate_source(contest=contest, worker=worker),
        revoked_at__isnull=True,
    ).first()
    return cert.code if cert else None


@router.get("/quiz/contests/{contest_id}/me", response=ContestMeOut)
def contests_me(request: HttpRequest, contest_id: Id) -> ContestMeOut:
    """The caller's tries left today (Asia/Shanghai), attempt in progress, best and rank."""
    contest = selectors.contest_get(pk=contest_id)
    worker = _user(request)
    tries = selectors.tries_today(contest=contest, worker=worker)
    current = selectors.attempt_current(contest=contest, worker=worker)
    rank = selectors.worker_rank(contest=contest, worker=worker)
    return ContestMeOut(
        tries_limit=tries.limit,
        tries_used=tries.used,
        tries_left=tries.left,
        current_attempt_id=current.pk if current else None,
        best_score=rank.score if rank else None,
        best_elapsed_ms=rank.elapsed_ms if rank else None,
        rank=rank.rank if rank else None,
        certificate_code=_certificate_code(contest, worker),
    )


_USER_FIELDS = ("id", "phone", "real_name", "province_id", "city_id", "is_active", "is_staff")


def _token_user(key: str) -> User | None:
    """``accounts.services.api_token_user`` as one plain statement: the token's worker, loaded
    with the fields an attempt reads (the others are deferred and load if touched). Embedded,
    a lookup is remembered for a while (``accounts.token_cache``)."""
    key_hash = hashlib.sha256(key.encode()).hexdigest()
    now = clock.now()
    found = token_cache.recall(key_hash, now=now)
    if found is None:
        generation = token_cache.generation()
        t, u = ApiToken._meta.db_table, User._meta.db_table
        columns = ", ".join(f"u.{name}" for name in _USER_FIELDS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {columns}, t.expires_at FROM {t} t JOIN {u} u ON u.id = t.user_id "  # noqa: S608 - our names; values are parameters
                f"WHERE t.key_hash = %s AND t.expires_at > %s AND u.is_active = %s",
                [key_hash, connection.ops.adapt_datetimefield_value(now), True],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        found = tuple(row[:-1])
        expires_at = services.aware(row[-1])
        token_cache.remember(key_hash, found, expires_at=expires_at, generation=generation)
    return services.loaded(User, dict(zip(_USER_FIELDS, found, strict=True)))


@functools.lru_cache(maxsize=65_536)
def _json_text(text: str) -> str:
    """A string as JSON. Papers repeat the same stems and options thousands of times a minute
    in a surge (a bank has hundreds of questions), so each is encoded once."""
    return json.dumps(text, ensure_ascii=False)


def _paper_json(paper: selectors.Paper, *, status: int = 200) -> HttpResponse:
    """The paper as PaperOut's JSON, written directly: validating thousands of papers a second
    through the schema costs more than drawing them. Only these fields are ever sent."""
    head = json.dumps(
        {
            "attempt_id": paper.attempt_id,
            "contest_id": paper.contest_id,
            "status": paper.status,
            "deadline": paper.deadline,
            "seconds_left": paper.seconds_left,
            "grace_s": paper.grace_s,
            "seq": paper.seq,
        },
        cls=DjangoJSONEncoder,
        ensure_ascii=False,
    )
    questions = ",".join(
        f'{{"position":{int(q.position)},"kind":{_json_text(q.kind)},'
        f'"kind_label":{_json_text(q.kind_label)},"stem":{_json_text(q.stem)},'
        f'"points":{int(q.points)},"options":['
        + ",".join(
            f'{{"letter":{_json_text(o.letter)},"text":{_json_text(o.text)}}}' for o in q.options
        )
        + f'],"chosen":{_json_text(q.chosen)}}}'
        for q in paper.questions
    )
    return HttpResponse(
        f'{head[:-1]},"questions":[{questions}]}}',
        status=status,
        content_type="application/json; charset=utf-8",
    )


class AttemptBearer(BearerAuth):
    """The project's bearer token, looked up in one plain statement (see ``_token_user``)."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = _token_user(token)
        if user is not None:
            request.user = user
        return user


# The hot endpoints of an attempt: thousands of workers start at once and save every answer.
ATTEMPT_AUTH = [AttemptBearer(), session_auth]


@router.post("/quiz/contests/{contest_id}/attempts", response={201: PaperOut}, auth=ATTEMPT_AUTH)
def attempts_start(request: HttpRequest, contest_id: Id) -> HttpResponse:
    """Start a try, or get back the one in progress (same paper, time left by the server)."""
    contest = selectors.contest_get_cached(pk=contest_id)
    attempt, rows = services.attempt_start_with_paper(contest=contest, worker=_user(request))
    attempt.contest = contest
    return _paper_json(selectors.attempt_paper(attempt=attempt, rows=rows), status=201)


@router.get("/quiz/attempts/{attempt_id}", response=PaperOut, auth=ATTEMPT_AUTH)
def attempts_get(request: HttpRequest, attempt_id: Id) -> HttpResponse:
    """The paper: questions and options in this attempt's order, the answers saved so far, the
    deadline and seconds left, the last accepted sequence number. No correct answers."""
    attempt = selectors.attempt_get_for_worker(worker=_user(request), pk=attempt_id)
    return _paper_json(selectors.attempt_paper(attempt=attempt))


@router.put("/quiz/attempts/{attempt_id}/answers/{position}", response=AnswerOut, auth=ATTEMPT_AUTH)
def attempts_answer(
    request: HttpRequest, attempt_id: Id, position: Position, payload: AnswerIn
) -> HttpResponse:
    """Save one answer (displayed letters; "" clears it) with the page's sequence number."""
    # The service reads the attempt by id and owner itself, so no read is needed first.
    item = services.attempt_answer(
        attempt=services.loaded(Attempt, {"id": attempt_id}),  # no field defaults computed
        worker=_user(request),
        position=position,
        choice=payload.choice,
        seq=payload.seq,
    )
    # Written directly (AnswerOut's shape): the hottest response of a contest.
    return HttpResponse(
        json.dumps({"position": item.position, "chosen": item.chosen, "seq": payload.seq}),
        content_type="application/json; charset=utf-8",
    )


def _result(attempt: Attempt, worker: User) -> ResultOut:
    review = selectors.attempt_review(attempt=attempt)
    out = ResultOut.model_validate(review, from_attributes=True)
    out.certificate_code = _certificate_code(attempt.contest, worker)
    return out


@router.post("/quiz/attempts/{attempt_id}/submit", response=ResultOut, auth=ATTEMPT_AUTH)
def attempts_submit(request: HttpRequest, attempt_id: Id, payload: SubmitIn) -> ResultOut:
    """Hand in the paper; submitting again returns the same result."""
    worker = _user(request)
    attempt = selectors.attempt_get_for_worker(worker=worker, pk=attempt_id)
    services.attempt_submit(attempt=attempt, worker=worker, seq=payload.seq)
    return _result(selectors.attempt_get_for_worker(worker=worker, pk=attempt_id), worker)


@router.get("/quiz/attempts/{attempt_id}/result", response=ResultOut)
def attempts_result(request: HttpRequest, attempt_id: Id) -> ResultOut:
    """Score, time and (when the contest reveals them) each question's answer and explanation."""
    worker = _user(request)
    attempt = selectors.attempt_get_for_worker(worker=worker, pk=attempt_id)
    return _result(attempt, worker)


@router.get("/quiz/contests/{contest_id}/leaderboard", response=LeaderboardOut, **optional_auth())
def contests_leaderboard(
    request: HttpRequest, contest_id: Id, limit: PageSize = 50, offset: Offset = 0
) -> LeaderboardOut:
    """Individuals by counted score, then shorter time, then earlier finish; names masked.
    ``me`` is the caller's own row when signed in."""
    contest = selectors.contest_get(pk=contest_id)
    rows = selectors.contest_leaderboard(
        contest=contest, limit=max(1, min(limit, MAX_LIMIT)), offset=max(0, offset)
    )
    user = getattr(request, "user", None)
    me = (
        selectors.worker_rank(contest=contest, worker=user)
        if user is not None and user.is_authenticated
        else None
    )
    return LeaderboardOut(
        rows=[RankOut.model_validate(r, from_attributes=True) for r in rows],
        me=RankOut.model_validate(me, from_attributes=True) if me else None,
    )


@router.get(
    "/quiz/contests/{contest_id}/organizations", response=list[OrgAverageOut], **optional_auth()
)
def contests_organizations(
    request: HttpRequest, contest_id: Id, parent: Id | None = None
) -> list[OrgAverageOut]:
    """The children of ``parent`` (the organizer by default) by average counted score."""
    contest = selectors.contest_get(pk=contest_id)
    organizer = contest.campaign.organizer
    if parent is None:
        org = organizer
    else:
        from saidao.orgs.selectors import organization_get, path_in_scope

        org = organization_get(pk=parent)
        if not path_in_scope(path=org.path, paths=[organizer.path]):
            raise NotFound(detail={"organization": parent})
    return [
        OrgAverageOut(
            rank=r.rank,
            organization_id=r.organization.pk,
            organization=r.organization.name,
            participants=r.participants,
            passed=r.passed,
            average_score=round(r.average_score, 2),
        )
        for r in selectors.organizations_by_average(contest=contest, parent=org)
    ]


def _results_parent(request: HttpRequest, parent: Id | None) -> Any:
    return organization_get_for_officer(user=request.user, pk=parent) if parent else None


@router.get("/quiz/contests/{contest_id}/results", response=list[OrgResultOut])
def contests_results(
    request: HttpRequest, contest_id: Id, parent: Id | None = None
) -> list[OrgResultOut]:
    """For officers: per organization of their subtree, participants, passes and scores."""
    contest = _contest_for_results(request, contest_id)
    rows = selectors.results_by_organization(
        user=request.user, contest=contest, parent=_results_parent(request, parent)
    )
    return [
        OrgResultOut(
            organization_id=r.organization.pk,
            organization=r.organization.name,
            participants=r.participants,
            passed=r.passed,
            pass_rate=round(r.pass_rate, 4),
            average_score=round(r.average_score, 2),
            best_score=r.best_score,
        )
        for r in rows
    ]


@router.get("/quiz/contests/{contest_id}/results.xlsx")
def contests_results_xlsx(
    request: HttpRequest, contest_id: Id, parent: Id | None = None
) -> HttpResponse:
    contest = _contest_for_results(request, contest_id)
    body = selectors.results_xlsx(
        user=request.user, contest=contest, parent=_results_parent(request, parent)
    )
    stamp = clock.today().isoformat()
    return _file_response(body, name=f"contest-{contest.pk}-results-{stamp}", fmt="xlsx")


if settings.SAIDAO_BENCH:

    @router.get("/quiz/bench-hello", auth=None, include_in_schema=False)
    def bench_hello(request: HttpRequest) -> dict[str, str]:
        """The bare endpoint ``saidao bench quiz`` measures answer saves against."""
        return {"hello": "world"}


def _contest_for_results(request: HttpRequest, contest_id: Id) -> Contest:
    """The contest, for an officer of its organizer or of an organization under it."""
    return selectors.contest_get_for_results(user=request.user, pk=contest_id)
