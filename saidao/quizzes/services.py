"""Writes for knowledge contests.

Public services (keyword-only; stable, new ones are added, none renamed):

Question bank (officers of the bank organization's subtree)
- ``question_create(*, actor, organization, kind, stem, options, answer, category="",
  difficulty="medium", explanation="", source="") -> Question``
- ``question_update(*, actor, question, kind, stem, options, answer, category="",
  difficulty="medium", explanation="", source="") -> Question`` (a new version when drawn before)
- ``question_archive(*, actor, question) -> Question``
- ``questions_import(*, actor, organization, file, filename="") -> list[Question]``
- ``questions_import_start(*, actor, organization, file) -> ImportJob`` (a large file)
  (all or nothing; raises QuestionImportInvalid with ``detail["errors"]`` = [{row, column,
  message}])
- ``questions_export(*, questions, fmt="xlsx") -> bytes`` and ``question_template(*, fmt) -> bytes``

Contests (officers of the campaign organizer's subtree)
- ``contest_create(*, actor, campaign, title, rules, bank=None, description="",
  time_limit_s=600, grace_s=30, tries_per_day=3, counted="best", pass_score=60,
  partial_credit="all_or_nothing", reveal="after_submit", certificate="passed") -> Contest``
  where ``rules`` is a list of ``RuleSpec(count, points, category="", difficulty="")``
- ``contest_update(*, actor, contest, **settings) -> Contest`` (same keywords; rules replace)
- ``contest_create_standalone(*, actor, organizer, slug, title, starts_at, ends_at, rules,
  publish=True, **settings) -> Contest`` (a campaign with a single quiz phase)

Attempts (the worker; time is the server's)
- ``attempt_start(*, contest, worker) -> Attempt`` (resumes the attempt in progress if any)
- ``attempt_answer(*, attempt, worker, position, choice, seq) -> SavedAnswer``
  (``choice``: displayed letters, e.g. "AC" or ["A", "C"]; "" clears)
- ``attempt_submit(*, attempt, worker, seq=None) -> Attempt`` (a repeated submit returns the
  finished attempt unchanged)
- ``attempts_expire(*, at=None) -> int`` (the periodic task: finish attempts whose time ran out)
- ``question_usage_write() -> int`` (the draw counts still pending in this process, written)

Selectors (reads) are in ``selectors.py``, whose docstring gives their signatures:
``questions_for_officer``, ``question_get_for_officer``, ``question_categories``,
``contests_for_officer``, ``contest_get_for_officer``, ``contest_get_for_results``,
``contests_of_campaign``, ``contest_get``, ``contest_get_cached``, ``attempt_get_for_worker``,
``attempt_current``, ``attempts_of_worker``, ``attempt_paper`` (never the answers),
``attempt_review``, ``answers_revealed``, ``tries_today``, ``result_of_worker``,
``contest_leaderboard``, ``worker_rank``, ``organizations_by_average``,
``results_by_organization``, ``results_xlsx``.

Certificates use the source ``quiz-contest:<contest id>:<worker id>``: one per worker and
contest, issued at the first attempt that finishes (or passes, per the contest).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import operator
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, models, transaction
from django.utils.translation import gettext_lazy as _

from saidao.accounts.models import Membership
from saidao.campaigns.models import Campaign, Phase
from saidao.campaigns.selectors import campaign_require_member, phase_require
from saidao.campaigns.services import PhaseSpec, campaign_create
from saidao.core import clock
from saidao.core.columns import values_check
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.core.imports import ImportProgress, import_job_create
from saidao.core.models import ImportJob
from saidao.core.services import audit_record
from saidao.core.tasks import enqueue
from saidao.leaderboards.services import participation_record
from saidao.orgs.models import Organization
from saidao.orgs.selectors import organization_in_scope

from . import caches, importing
from .errors import (
    AttemptClosed,
    DuplicateQuestion,
    NotInPaper,
    NoTriesLeft,
    PaperUnavailable,
    QuestionImportInvalid,
    StaleSequence,
    TimeUp,
)
from .models import (
    LETTERS,
    Attempt,
    AttemptItem,
    Contest,
    ContestResult,
    Difficulty,
    PaperRule,
    Question,
    QuestionKind,
    QuestionVersion,
)


def _changed() -> None:
    """Drop the in-process caches now and again once the change is committed (a draw in
    between could otherwise read the old rows back into them)."""
    caches.clear()
    transaction.on_commit(caches.clear)


def _require_officer(*, actor: Any, organization: Organization) -> None:
    if not organization_in_scope(user=actor, organization=organization):
        raise OutsideScope(detail={"organization": organization.pk})


# --- question bank -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Content:
    kind: str
    stem: str
    options: list[str]
    answer: str
    category: str
    difficulty: str
    explanation: str
    source: str
    fingerprint: str


def _check_content(
    *,
    kind: str,
    stem: str,
    options: Sequence[str],
    answer: str | Sequence[str],
    category: str,
    difficulty: str,
    explanation: str,
    source: str,
) -> _Content:
    errors: dict[str, list[str]] = {}
    if kind not in QuestionKind.values:
        errors["kind"] = [str(_("题型应为单选、多选或判断。"))]
    stem = stem.strip()
    if not stem:
        errors["stem"] = [str(_("题干不能为空。"))]
    cleaned = [o.strip() for o in options]
    while cleaned and not cleaned[-1]:
        cleaned.pop()
    if kind == QuestionKind.TRUE_FALSE and not cleaned:
        cleaned = list(importing.TRUE_FALSE_OPTIONS)
    if len(cleaned) > len(LETTERS):
        errors["options"] = [str(_("最多 6 个选项（A–F）。"))]
    elif any(not o for o in cleaned):
        errors["options"] = [str(_("选项必须从 A 起连续填写，中间不能空缺。"))]
    elif kind in QuestionKind.values:
        problem = importing.options_problem(cleaned, kind=kind)
        if problem:
            errors["options"] = [problem]
    letters = ""
    if kind in QuestionKind.values and "options" not in errors:
        parsed = importing.answer_parse(answer, kind=kind)
        if parsed is None:
            errors["answer"] = [str(_("答案无法识别，请写选项字母，例如 A 或 AC。"))]
        else:
            problem = importing.answer_problem(parsed, kind=kind, options=cleaned)
            if problem:
                errors["answer"] = [problem]
            letters = parsed
    if difficulty not in Difficulty.values:
        errors["difficulty"] = [str(_("难度应为容易、中等或困难。"))]
    if len(category.strip()) > 40:
        errors["category"] = [str(_("分类不能超过 40 个字。"))]
    if errors:
        raise InvalidInput(detail={"fields": errors})
    return _Content(
        kind=kind,
        stem=stem,
        options=cleaned,
        answer=letters,
        category=category.strip(),
        difficulty=difficulty,
        explanation=explanation.strip(),
        source=source.strip()[:200],
        fingerprint=importing.fingerprint(stem),
    )


def _version_of(question: Question, number: int) -> QuestionVersion:
    return QuestionVersion(
        question=question,
        number=number,
        kind=question.kind,
        stem=question.stem,
        options=question.options,
        answer=question.answer,
        explanation=question.explanation,
    )


def _duplicate(*, organization: Organization, fingerprint: str, exclude: int | None) -> bool:
    qs = Question.objects.filter(
        organization=organization, fingerprint=fingerprint, archived_at__isnull=True
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.exists()


@transaction.atomic
def question_create(
    *,
    actor: Any,
    organization: Organization,
    kind: str,
    stem: str,
    options: Sequence[str],
    answer: str | Sequence[str],
    category: str = "",
    difficulty: str = Difficulty.MEDIUM,
    explanation: str = "",
    source: str = "",
) -> Question:
    """Add a question to the organization's bank, with its first version."""
    _require_officer(actor=actor, organization=organization)
    _changed()
    content = _check_content(
        kind=kind,
        stem=stem,
        options=options,
        answer=answer,
        category=category,
        difficulty=difficulty,
        explanation=explanation,
        source=source,
    )
    if _duplicate(organization=organization, fingerprint=content.fingerprint, exclude=None):
        raise DuplicateQuestion(
            detail={"fields": {"stem": [str(DuplicateQuestion.default_message)]}}
        )
    question = Question.objects.create(
        organization=organization, created_by=actor, **content.__dict__
    )
    version = _version_of(question, 1)
    version.save()
    question.current_version = version
    question.save(update_fields=["current_version"])
    return question


@transaction.atomic
def question_update(
    *,
    actor: Any,
    question: Question,
    kind: str,
    stem: str,
    options: Sequence[str],
    answer: str | Sequence[str],
    category: str = "",
    difficulty: str = Difficulty.MEDIUM,
    explanation: str = "",
    source: str = "",
) -> Question:
    """Edit a question. If its current version was drawn into a paper, the edit makes a new
    version and those papers keep the old one; otherwise the current version is corrected."""
    _require_officer(actor=actor, organization=question.organization)
    _changed()
    question = Question.objects.select_for_update().get(pk=question.pk)
    content = _check_content(
        kind=kind,
        stem=stem,
        options=options,
        answer=answer,
        category=category,
        difficulty=difficulty,
        explanation=explanation,
        source=source,
    )
    if _duplicate(
        organization=question.organization, fingerprint=content.fingerprint, exclude=question.pk
    ):
        raise DuplicateQuestion(
            detail={"fields": {"stem": [str(DuplicateQuestion.default_message)]}}
        )
    for name, value in content.__dict__.items():
        setattr(question, name, value)
    current = question.current_version
    fresh = _version_of(question, 1)
    if current is None:
        fresh.save()
        question.current_version = fresh
    elif AttemptItem.objects.filter(version=current).exists():
        fresh.number = current.number + 1
        fresh.save()
        question.current_version = fresh
    else:
        # Never drawn: replaced under the same number. A version row never changes once
        # written, so papers and the in-process version cache can trust its id.
        question.current_version = None
        question.save(update_fields=["current_version"])
        number = current.number
        current.delete()
        fresh.number = number
        fresh.save()
        question.current_version = fresh
    question.save()
    audit_record(
        actor=actor,
        action="question.update",
        target=question,
        data={"version": question.current_version.number},
    )
    return question


@transaction.atomic
def question_archive(*, actor: Any, question: Question) -> Question:
    """Take a question out of the bank: no new paper draws it; old papers keep it."""
    _require_officer(actor=actor, organization=question.organization)
    _changed()
    if question.archived_at is None:
        question.archived_at = clock.now()
        question.save(update_fields=["archived_at", "updated_at"])
        audit_record(actor=actor, action="question.archive", target=question)
    return question


@transaction.atomic
def questions_import(
    *,
    actor: Any,
    organization: Organization,
    file: IO[bytes],
    filename: str = "",
    progress: ImportProgress | None = None,
) -> list[Question]:
    """Import a whole .xlsx or CSV file, or nothing: every error is reported with its row,
    column and reason (``QuestionImportInvalid.detail["errors"]``). ``progress`` (a background
    job's) is told how many rows have been read."""
    _require_officer(actor=actor, organization=organization)
    _changed()
    existing = set(
        Question.objects.filter(organization=organization, archived_at__isnull=True).values_list(
            "fingerprint", flat=True
        )
    )
    parsed = importing.questions_parse(
        file,
        filename=filename,
        existing=existing,
        progress=progress.reading if progress else None,
    )
    if parsed.errors:
        raise QuestionImportInvalid(
            detail={"errors": parsed.errors, "rows_ok": len(parsed.questions)}
        )
    questions = Question.objects.bulk_create(
        [
            Question(
                organization=organization,
                created_by=actor,
                kind=p.kind,
                stem=p.stem,
                options=p.options,
                answer=p.answer,
                category=p.category,
                difficulty=p.difficulty,
                explanation=p.explanation,
                source=p.source,
                fingerprint=p.fingerprint,
            )
            for p in parsed.questions
        ]
    )
    if not all(q.pk for q in questions):  # backends without RETURNING on bulk insert
        by_print = dict(
            Question.objects.filter(
                organization=organization,
                archived_at__isnull=True,
                fingerprint__in=[p.fingerprint for p in parsed.questions],
            ).values_list("fingerprint", "pk")
        )
        for q in questions:
            q.pk = by_print[q.fingerprint]
    versions = QuestionVersion.objects.bulk_create(
        [_version_of(q, 1) for q in questions], batch_size=500
    )
    by_question = {v.question_id: v for v in versions}
    if not all(v.pk for v in versions):
        by_question = {
            v.question_id: v
            for v in QuestionVersion.objects.filter(question__in=[q.pk for q in questions])
        }
    for q in questions:
        q.current_version = by_question[q.pk]
    Question.objects.bulk_update(questions, ["current_version"], batch_size=500)
    audit_record(
        actor=actor,
        action="question.import",
        target=organization,
        data={"count": len(questions), "filename": filename[:200]},
    )
    return questions


def questions_import_start(
    *, actor: Any, organization: Organization, file: UploadedFile[Any]
) -> ImportJob:
    """Import a large question file in the background (``questions_import`` run by a task);
    the job reports its progress, then the same result or the same errors."""
    from .tasks import QUESTIONS_IMPORT_TASK

    _require_officer(actor=actor, organization=organization)
    job = import_job_create(
        kind=ImportJob.Kind.QUESTIONS, organization=organization, actor=actor, file=file
    )
    enqueue(QUESTIONS_IMPORT_TASK, job_id=job.pk)
    return job


def questions_export(*, questions: Sequence[Question], fmt: str = "xlsx") -> bytes:
    """The questions in the template's columns, as .xlsx or CSV (importable again)."""
    rows = [
        importing.question_row(
            kind=q.kind,
            stem=q.stem,
            options=q.options,
            answer=q.answer,
            category=q.category,
            difficulty=q.difficulty,
            explanation=q.explanation,
        )
        for q in questions
    ]
    return importing.rows_csv(rows) if fmt == "csv" else importing.rows_xlsx(rows)


def question_template(*, fmt: str = "xlsx") -> bytes:
    return importing.template_file(fmt)


# --- contests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    count: int
    points: int
    category: str = ""
    difficulty: str = ""


_SETTINGS = (
    "title",
    "description",
    "time_limit_s",
    "grace_s",
    "tries_per_day",
    "counted",
    "pass_score",
    "partial_credit",
    "reveal",
    "certificate",
)


def _check_settings(values: dict[str, Any], rules: Sequence[RuleSpec] | None) -> None:
    errors: dict[str, list[str]] = {}
    if "title" in values and not str(values["title"]).strip():
        errors["title"] = [str(_("请填写竞赛名称。"))]
    if values.get("time_limit_s", 600) < 10:
        errors["time_limit_s"] = [str(_("答题时限至少 10 秒。"))]
    if values.get("grace_s", 0) < 0 or values.get("grace_s", 0) > 600:
        errors["grace_s"] = [str(_("交卷宽限应在 0 到 600 秒之间。"))]
    if values.get("tries_per_day", 1) < 1:
        errors["tries_per_day"] = [str(_("每天可答次数至少为 1。"))]
    if values.get("pass_score", 0) < 0:
        errors["pass_score"] = [str(_("及格分不能为负数。"))]
    numbers = ("time_limit_s", "grace_s", "tries_per_day", "pass_score")
    try:
        values_check(Contest, **{k: values[k] for k in numbers if k in values and k not in errors})
    except InvalidInput as exc:
        errors.update(exc.detail["fields"])
    choices = {
        "counted": Contest.Counted.values,
        "partial_credit": Contest.PartialCredit.values,
        "reveal": Contest.Reveal.values,
        "certificate": Contest.CertificateRule.values,
    }
    for name, allowed in choices.items():
        if name in values and values[name] not in allowed:
            errors[name] = [str(_("取值无效。"))]
    if rules is not None:
        problems = []
        if not rules:
            problems.append(str(_("请至少设置一条组卷规则。")))
        for i, r in enumerate(rules, 1):
            if r.count < 1 or r.points < 1:
                problems.append(str(_("第 %(i)d 条规则的题数和分值都至少为 1。") % {"i": i}))
            if r.difficulty and r.difficulty not in Difficulty.values:
                problems.append(str(_("第 %(i)d 条规则的难度无效。") % {"i": i}))
        if sum(r.count for r in rules) > 200:
            problems.append(str(_("一份试卷最多 200 道题。")))
        if problems:
            errors["rules"] = problems
    if errors:
        raise InvalidInput(detail={"fields": errors})


def _set_rules(contest: Contest, rules: Sequence[RuleSpec]) -> None:
    contest.rules.all().delete()
    PaperRule.objects.bulk_create(
        [
            PaperRule(
                contest=contest,
                position=i,
                category=r.category.strip(),
                difficulty=r.difficulty,
                count=r.count,
                points=r.points,
            )
            for i, r in enumerate(rules, 1)
        ]
    )


def _check_pool(contest: Contest, rules: Sequence[RuleSpec]) -> None:
    """Refuse rules the bank cannot fill, saying which."""
    problems = []
    for i, r in enumerate(rules, 1):
        available = _candidates(contest.bank_id, r.category.strip(), r.difficulty).count()
        if available < r.count:
            problems.append(
                str(
                    _("第 %(i)d 条规则需要 %(n)d 道题，题库中只有 %(m)d 道。")
                    % {"i": i, "n": r.count, "m": available}
                )
            )
    if problems:
        raise InvalidInput(detail={"fields": {"rules": problems}})


@transaction.atomic
def contest_create(
    *,
    actor: Any,
    campaign: Campaign,
    title: str,
    rules: Sequence[RuleSpec],
    bank: Organization | None = None,
    description: str = "",
    time_limit_s: int = 600,
    grace_s: int = 30,
    tries_per_day: int = 3,
    counted: str = Contest.Counted.BEST,
    pass_score: int = 60,
    partial_credit: str = Contest.PartialCredit.ALL_OR_NOTHING,
    reveal: str = Contest.Reveal.AFTER_SUBMIT,
    certificate: str = Contest.CertificateRule.PASSED,
) -> Contest:
    """A contest in ``campaign``'s quiz phase, drawing from ``bank``'s questions (the
    organizer's bank by default). The officer must administer both."""
    _require_officer(actor=actor, organization=campaign.organizer)
    _changed()
    bank = bank or campaign.organizer
    _require_officer(actor=actor, organization=bank)
    values = {
        "title": title.strip(),
        "description": description,
        "time_limit_s": time_limit_s,
        "grace_s": grace_s,
        "tries_per_day": tries_per_day,
        "counted": counted,
        "pass_score": pass_score,
        "partial_credit": partial_credit,
        "reveal": reveal,
        "certificate": certificate,
    }
    _check_settings(values, rules)
    contest = Contest(campaign=campaign, bank=bank, created_by=actor, **values)
    _check_pool(contest, rules)
    contest.save()
    _set_rules(contest, rules)
    audit_record(actor=actor, action="contest.create", target=contest)
    return contest


@transaction.atomic
def contest_update(
    *,
    actor: Any,
    contest: Contest,
    rules: Sequence[RuleSpec] | None = None,
    bank: Organization | None = None,
    **settings: Any,
) -> Contest:
    """Change a contest's settings (any of contest_create's keywords); papers already drawn
    keep their questions and points."""
    _require_officer(actor=actor, organization=contest.campaign.organizer)
    _changed()
    unknown = set(settings) - set(_SETTINGS)
    if unknown:
        raise InvalidInput(detail={"fields": {k: [str(_("未知设置。"))] for k in sorted(unknown)}})
    if "title" in settings:
        settings["title"] = str(settings["title"]).strip()
    _check_settings(settings, rules)
    if bank is not None:
        _require_officer(actor=actor, organization=bank)
        contest.bank = bank
    for name, value in settings.items():
        setattr(contest, name, value)
    if rules is not None:
        _check_pool(contest, rules)
        _set_rules(contest, rules)
    contest.save()
    audit_record(
        actor=actor,
        action="contest.update",
        target=contest,
        data={k: v for k, v in settings.items() if k != "description"},
    )
    return contest


@transaction.atomic
def contest_create_standalone(
    *,
    actor: Any,
    organizer: Organization,
    slug: str,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    rules: Sequence[RuleSpec],
    publish: bool = True,
    **settings: Any,
) -> Contest:
    """A contest on its own: a campaign with a single quiz phase, and its contest."""
    campaign = campaign_create(
        actor=actor,
        organizer=organizer,
        slug=slug,
        title=title,
        description=settings.get("description", ""),
        phases=[
            PhaseSpec(
                kind=Phase.Kind.QUIZ,
                title=str(_("知识竞赛")),
                starts_at=starts_at,
                ends_at=ends_at,
                quiz_open=True,
            )
        ],
        publish=publish,
    )
    return contest_create(actor=actor, campaign=campaign, title=title, rules=rules, **settings)


# --- attempts -------------------------------------------------------------------------------


def _candidates(bank_id: int, category: str, difficulty: str) -> Any:
    qs = Question.objects.filter(
        organization_id=bank_id, archived_at__isnull=True, current_version__isnull=False
    )
    if category:
        qs = qs.filter(category=category)
    if difficulty:
        qs = qs.filter(difficulty=difficulty)
    return qs


@dataclass(frozen=True)
class _Drawn:
    question_id: int
    version_id: int
    points: int
    order: list[int]


# Every order of the six letter slots, drawn from with one random choice.
_ORDERS = [list(p) for p in itertools.permutations(range(len(LETTERS)))]
_TRUE_FALSE_ORDER = [0, 1]


def _option_order(kind: str) -> list[int]:
    """A permutation of the six letter slots; slots past a question's options are skipped
    when shown, so the order is made without reading the options. True/false keeps 正确
    before 错误."""
    if kind == QuestionKind.TRUE_FALSE:
        return list(_TRUE_FALSE_ORDER)
    return list(random.choice(_ORDERS))  # noqa: S311 - a paper's layout, not a secret


_order_preps: dict[str, dict[tuple[int, ...], Any]] = {}


def _order_preps_of(vendor: str) -> dict[tuple[int, ...], Any]:
    return _order_preps.setdefault(vendor, {})


def _order_prep(order: list[int], preps: dict[tuple[int, ...], Any]) -> Any:
    """An option order as the database takes it (JSON), made once per order and backend."""
    key = tuple(order)
    prep = preps.get(key)
    if prep is None:
        prep = preps[key] = AttemptItem._meta.get_field("order").get_db_prep_save(order, connection)
    return prep


def _least_used(entries: list[caches.PoolEntry], count: int) -> list[caches.PoolEntry]:
    """``count`` of the entries, least used first, ties chosen at random."""
    entries.sort(key=_USED)
    if count >= len(entries):
        return entries
    cut = entries[count - 1].used
    below = [e for e in entries if e.used < cut]
    tied = [e for e in entries if e.used == cut]
    return below + random.sample(tied, count - len(below))


_USED = operator.attrgetter("used")


def _draw(contest: Contest) -> list[_Drawn]:
    """The questions of a fresh paper, in a random order, each with its option order.

    Least-used questions first; ties broken at random. The candidates and their counters come
    from the in-process pool cache (see ``caches``).
    """
    chosen: list[_Drawn] = []
    taken: set[int] = set()
    for rule in contest.rules.all():
        entries = [
            e
            for e in caches.pool(contest.bank_id, rule.category, rule.difficulty)
            if e.question_id not in taken
        ]
        if len(entries) < rule.count:
            raise PaperUnavailable(detail={"rule": rule.position})
        picked = _least_used(entries, rule.count)
        caches.pool_used(picked)
        for e in picked:
            chosen.append(_Drawn(e.question_id, e.version_id, rule.points, _option_order(e.kind)))
            taken.add(e.question_id)
    random.shuffle(chosen)
    return chosen


def _rows(query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return list(cursor.fetchall())


M = TypeVar("M", bound=models.Model)


def loaded(model: type[M], data: dict[str, Any]) -> M:
    """An instance as if loaded from the database with only these fields (others deferred).

    ``from_db`` takes the values in the model's field order, whatever order they came in.
    """
    names = [f.attname for f in model._meta.concrete_fields if f.attname in data]
    return model.from_db(connection.alias, names, [data[n] for n in names])


def _worker_organization(worker: Any) -> Organization | None:
    """The worker's current membership organization (id, path and name only), one statement."""
    m, o = Membership._meta.db_table, Organization._meta.db_table
    rows = _rows(
        f"SELECT o.id, o.path, o.name FROM {m} m JOIN {o} o ON o.id = m.organization_id "  # noqa: S608 - our table names; values are parameters
        f"WHERE m.user_id = %s AND m.left_at IS NULL",
        [worker.pk],
    )
    if not rows:
        return None
    pk, path, name = rows[0]
    return loaded(Organization, {"id": pk, "path": path, "name": name})


def _zone_city_id(worker: Any) -> str | None:
    return caches.zone_of(worker.city_id)


def _closes_at(attempt: Attempt, contest: Contest) -> dt.datetime:
    return attempt.deadline + dt.timedelta(seconds=contest.grace_s)


_ATTEMPT_COLUMNS = (
    "created_at",
    "updated_at",
    "contest_id",
    "worker_id",
    "organization_id",
    "zone_city_id",
    "day",
    "try_number",
    "status",
    "started_at",
    "deadline",
    "score",
    "max_score",
    "passed",
)


# One row of a paper as ``selectors.attempt_paper`` reads it: position, version id, option
# order, points, response, the sequence number of the save that wrote it.
PaperRow = tuple[int, int, list[int], int, str, int]
_ITEM_COLUMNS = (
    "attempt_id",
    "position",
    "version_id",
    '"order"',
    "points",
    "response",
    "awarded",
    "seq",
)


def attempt_start(*, contest: Contest, worker: Any) -> Attempt:
    """Start a try, or come back to the one in progress (same paper, same deadline).

    See ``attempt_start_with_paper``.
    """
    return attempt_start_with_paper(contest=contest, worker=worker)[0]


def attempt_start_with_paper(
    *, contest: Contest, worker: Any
) -> tuple[Attempt, list[PaperRow] | None]:
    """Start a try, or come back to the one in progress (same paper, same deadline); with a
    fresh try, also the rows of the paper just stored (so it need not be read back).

    Refused when the quiz phase is closed, the worker is outside the organizer's subtree, or
    today's tries (Asia/Shanghai days) are used up.

    Thousands of workers start together when a contest opens, so beyond the cached contest and
    question pool this is plain statements: one read of the worker's attempts (the one in
    progress and today's), one of the membership, and one transaction inserting the attempt
    and its paper (one multi-row insert). The questions' draw counts are written a second's
    worth at a time by whichever start comes then (``caches.usage_due``).
    """
    now = clock.now()
    today = now.astimezone(clock.SHANGHAI).date()
    a = Attempt._meta.db_table
    rows = _rows(
        f"SELECT id, status, deadline, day FROM {a} "  # noqa: S608 - our table name; values are parameters
        f"WHERE contest_id = %s AND worker_id = %s AND (status = %s OR day = %s)",
        [
            contest.pk,
            worker.pk,
            Attempt.Status.IN_PROGRESS,
            connection.ops.adapt_datefield_value(today),
        ],
    )
    for pk, status, deadline, _day in rows:
        if status == Attempt.Status.IN_PROGRESS:
            if now <= aware(deadline) + dt.timedelta(seconds=contest.grace_s):
                return Attempt.objects.select_related("contest").get(pk=pk), None
            _expire_one(attempt_id=pk, at=now)
    campaign = contest.campaign
    phase_require(campaign=campaign, switch="quiz_open", at=now)
    organization = _worker_organization(worker)
    campaign_require_member(campaign=campaign, organization=organization)
    assert organization is not None
    used = sum(1 for row in rows if str(row[3]) == today.isoformat())
    if used >= contest.tries_per_day:
        raise NoTriesLeft(
            _("今天的 %(n)d 次答题机会已用完，明天（北京时间零点后）再来吧。")
            % {"n": contest.tries_per_day},
            detail={"tries_per_day": contest.tries_per_day, "used": used},
        )
    paper = _draw(contest)
    deadline = now + dt.timedelta(seconds=contest.time_limit_s)
    values: dict[str, Any] = {
        "contest_id": contest.pk,
        "worker_id": worker.pk,
        "organization_id": organization.pk,
        "zone_city_id": _zone_city_id(worker),
        "day": today,
        "try_number": used + 1,
        "status": Attempt.Status.IN_PROGRESS,
        "started_at": now,
        "deadline": deadline,
        "score": 0,
        "max_score": sum(d.points for d in paper),
        "passed": False,
    }
    i = AttemptItem._meta.db_table
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    # SQLite gives the new id as lastrowid: RETURNING would cost a second step of the
    # statement, and every step hands the interpreter's lock to the event loop and back.
    on_sqlite = connection.vendor == "sqlite"
    insert_attempt = (
        f"INSERT INTO {a} ({', '.join(_ATTEMPT_COLUMNS)}) "  # noqa: S608 - our names; values are parameters
        f"VALUES ({', '.join(['%s'] * len(_ATTEMPT_COLUMNS))})"
        + ("" if on_sqlite else " RETURNING id")
    )
    params: list[Any] = [stamp, stamp]
    for name in _ATTEMPT_COLUMNS[2:]:
        value = values[name]
        if isinstance(value, dt.datetime):
            value = ops.adapt_datetimefield_value(value)
        elif isinstance(value, dt.date):
            value = ops.adapt_datefield_value(value)
        params.append(value)
    insert_items = (
        f"INSERT INTO {i} ({', '.join(_ITEM_COLUMNS)}) "  # noqa: S608 - our names; values are parameters
        f"VALUES {', '.join(['(' + ', '.join(['%s'] * len(_ITEM_COLUMNS)) + ')'] * len(paper))}"
    )
    question_ids = [d.question_id for d in paper]
    item_params: list[Any] = []
    paper_rows: list[PaperRow] = []
    preps = _order_preps_of(connection.vendor)
    for n, d in enumerate(paper, 1):
        item_params += [None, n, d.version_id, _order_prep(d.order, preps), d.points, "", 0, 0]
        paper_rows.append((n, d.version_id, d.order, d.points, "", 0))

    def insert() -> int:
        with connection.cursor() as cursor:
            cursor.execute(insert_attempt, params)
            attempt_id = cursor.lastrowid if on_sqlite else cursor.fetchone()[0]
            item_params[:: len(_ITEM_COLUMNS)] = [attempt_id] * len(paper)
            cursor.execute(insert_items, item_params)
            # Earlier starts' draw counts, a second's worth at a time (see caches.usage_due).
            taken.update(caches.usage_due())
            if taken:
                _usage_write(cursor, taken)
        transaction.on_commit(_ensure_sweeper)
        return int(attempt_id)

    taken: dict[int, int] = {}
    try:
        # Shares its transaction with the starts queued meanwhile (see caches.write_batched).
        attempt_id = caches.write_batched(insert)
    except BaseException as exc:
        caches.usage_return(taken)
        if not isinstance(exc, IntegrityError):
            raise
        # A concurrent start of the same worker won: return its attempt, or refuse the try.
        again = Attempt.objects.filter(
            contest=contest, worker=worker, status=Attempt.Status.IN_PROGRESS
        ).first()
        if again is not None:
            return again, None
        raise NoTriesLeft(detail={"tries_per_day": contest.tries_per_day}) from None
    caches.usage_count(question_ids)
    attempt = loaded(Attempt, {"id": attempt_id, **values})
    attempt.contest = contest
    return attempt, paper_rows


def _usage_write(cursor: Any, counts: dict[int, int]) -> None:
    """Add draw counts to the questions' ``times_used``: one statement a thousand questions,
    rows in id order so that concurrent writers do not deadlock."""
    q = Question._meta.db_table
    ids = sorted(counts)
    for at in range(0, len(ids), 1000):
        chunk = ids[at : at + 1000]
        cursor.execute(
            f"UPDATE {q} SET times_used = times_used + CASE id "  # noqa: S608 - our name; values are parameters
            f"{' '.join(['WHEN %s THEN %s'] * len(chunk))} END "
            f"WHERE id IN ({', '.join(['%s'] * len(chunk))})",
            [v for pk in chunk for v in (pk, counts[pk])] + chunk,
        )


def question_usage_write() -> int:
    """Write every draw count still pending in this process (the embedded sweeper's tick;
    otherwise a start carries them). Returns how many questions' counters moved."""
    counts = caches.usage_due(all_now=True)
    if not counts:
        return 0
    try:
        with caches.write_gate(), transaction.atomic(), connection.cursor() as cursor:
            _usage_write(cursor, counts)
    except BaseException:
        caches.usage_return(counts)
        raise
    return len(counts)


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """A saved answer as its worker may see it: no grade, no correct answer."""

    position: int
    response: str  # the version's letters, as stored
    chosen: str  # the letters the worker saw


def visible_order(order: Sequence[int], n: int) -> list[int]:
    """Indexes into a version's ``n`` options, in the order shown under A, B, C…"""
    return [i for i in order if i < n]


def option_order(item: AttemptItem) -> list[int]:
    return visible_order(item.order, len(item.version.options))


def to_stored(order: Sequence[int], letters: str) -> str:
    """The version's letters for the letters the worker saw (the inverse of ``to_displayed``)."""
    return "".join(sorted(LETTERS[order[LETTERS.index(ch)]] for ch in letters))


def to_displayed(order: Sequence[int], letters: str) -> str:
    """The letters the worker saw for the version's letters (``order`` as visible_order)."""
    if not letters:
        return ""  # unanswered: every question of a fresh paper
    return "".join(sorted(LETTERS[list(order).index(LETTERS.index(ch))] for ch in letters))


def stored_to_displayed(item: AttemptItem, letters: str) -> str:
    return to_displayed(option_order(item), letters)


def grade(*, answer: str, response: str, points: int, kind: str, partial_credit: str) -> int:
    if not response:
        return 0
    if response == answer:
        return points
    if (
        kind == QuestionKind.MULTIPLE
        and partial_credit == Contest.PartialCredit.PROPORTIONAL
        and set(response) < set(answer)
    ):
        return points * len(response) // len(answer)
    return 0


def _choice_parse(choice: str | Sequence[str], *, n: int, kind: str) -> str:
    """The displayed letters chosen, checked against a question of ``n`` options."""
    raw = choice if isinstance(choice, str) else ",".join(choice)
    if not raw.strip():
        return ""
    parsed = importing.answer_parse(raw, kind=QuestionKind.SINGLE)
    if parsed is None or any(ch not in LETTERS[:n] for ch in parsed):
        raise InvalidInput.for_field("choice", _("请从本题的选项中选择。"))
    if kind != QuestionKind.MULTIPLE and len(parsed) != 1:
        raise InvalidInput.for_field("choice", _("本题只能选一个答案。"))
    return parsed


def _locked(attempt: Attempt, worker: Any) -> Attempt:
    locked = (
        Attempt.objects.select_for_update()
        .select_related("contest")
        .filter(pk=attempt.pk, worker_id=worker.pk)
        .first()
    )
    if locked is None:
        raise NotFound(detail={"attempt": attempt.pk})
    return locked


def aware(value: Any) -> dt.datetime:
    """A datetime read by a raw cursor (SQLite gives text in UTC) as an aware datetime."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, dt.datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def order_json(value: Any) -> list[int]:
    """An item's option order as read by a raw cursor (text on SQLite)."""
    order: list[int] = _json(value)
    return order


@functools.cache
def _answer_sql(vendor: str) -> tuple[str, str, str]:
    i, a, c, v = (m._meta.db_table for m in (AttemptItem, Attempt, Contest, QuestionVersion))
    paper = (
        f'SELECT a.deadline, c.grace_s, c.partial_credit, i.position, i.id, i."order", '  # noqa: S608 - our table names; values are parameters
        f"i.points, v.kind, v.options, v.answer "
        f"FROM {i} i JOIN {a} a ON a.id = i.attempt_id JOIN {c} c ON c.id = a.contest_id "
        f"JOIN {v} v ON v.id = i.version_id "
        f"WHERE i.attempt_id = %s AND a.worker_id = %s"
    )
    # On PostgreSQL a submit locks the attempt's row (FOR UPDATE): sharing that lock makes a
    # save wait for a submit under way and then find the attempt closed, so no answer is
    # written after the paper was scored. SQLite has one writer, so a statement is never
    # interleaved with a submit's transaction.
    share = " FOR SHARE" if vendor == "postgresql" else ""
    # The item's own "seq < %s" is checked again by PostgreSQL when two saves of one item race
    # (it rereads the row it waited for); the paper's largest number is the staleness rule.
    save = (
        f"UPDATE {i} SET response = %s, answered_at = %s, awarded = %s, seq = %s "  # noqa: S608 - our table names; values are parameters
        f"WHERE id = %s AND seq < %s "
        f"AND %s > (SELECT MAX(seq) FROM {i} WHERE attempt_id = %s) "
        f"AND EXISTS (SELECT 1 FROM {a} WHERE id = %s AND worker_id = %s AND status = %s{share})"
    )
    refused = (
        f"SELECT a.status, (SELECT MAX(seq) FROM {i} WHERE attempt_id = a.id), "  # noqa: S608 - our table names; values are parameters
        f"(SELECT response FROM {i} WHERE id = %s) FROM {a} a WHERE a.id = %s"
    )
    return paper, save, refused


def _answering(attempt_id: int, worker_id: int) -> caches.Answering | None:
    """What saving an answer needs of the worker's attempt: cached, or read in one statement
    (None when the worker has no such attempt)."""
    found = caches.answering(attempt_id, worker_id)
    if found is not None:
        return found
    with connection.cursor() as cursor:
        cursor.execute(_answer_sql(connection.vendor)[0], [attempt_id, worker_id])
        rows = cursor.fetchall()
    if not rows:
        return None
    deadline, grace_s, partial_credit = rows[0][:3]
    items = {
        position: caches.GradedItem(
            item_id=item_id,
            shown=tuple(visible_order(order_json(order), len(_json(options)))),
            points=points,
            kind=kind,
            answer=answer,
        )
        for _d, _g, _p, position, item_id, order, points, kind, options, answer in rows
    }
    paper = caches.Answering(
        worker_id=worker_id,
        deadline=aware(deadline),
        grace_s=grace_s,
        partial_credit=partial_credit,
        items=items,
        read_at=time.monotonic(),
    )
    caches.answering_put(attempt_id, paper)
    return paper


def attempt_answer(
    *, attempt: Attempt, worker: Any, position: int, choice: str | Sequence[str], seq: int
) -> SavedAnswer:
    """Save (and grade, out of sight) the answer to one question of the paper.

    ``seq`` grows with every save the page sends; the attempt's last accepted number is the
    largest its items carry. The same save sent twice changes nothing; an older one than the
    last accepted is refused as stale, and so is any save once the attempt is closed.

    This is the hottest write of a contest, so it is one statement: the item written only if
    the attempt is the worker's, still open, and ``seq`` is newer than every save it took.
    What grading needs of the paper is read once per attempt and cached
    (``caches.answering``). Every statement counts: in embedded mode each one hands the
    interpreter's lock to the server's event loop and back.
    """
    # Plain values, no model instances: building them was a quarter of a save's Python time.
    paper = _answering(attempt.pk, worker.pk)
    if paper is None:
        raise NotFound(detail={"attempt": attempt.pk})
    item = paper.items.get(position)
    if item is None:
        raise NotInPaper(detail={"position": position})
    now = clock.now()
    if now > paper.deadline + dt.timedelta(seconds=paper.grace_s):
        status = Attempt.objects.filter(pk=attempt.pk).values_list("status", flat=True).first()
        if status is None:  # deleted meanwhile (its contest removed)
            raise NotFound(detail={"attempt": attempt.pk})
        if status != Attempt.Status.IN_PROGRESS:
            raise AttemptClosed(detail={"attempt": attempt.pk, "status": status})
        raise TimeUp(detail={"attempt": attempt.pk, "deadline": paper.deadline.isoformat()})
    shown = item.shown
    chosen = _choice_parse(choice, n=len(shown), kind=item.kind)
    response = to_stored(shown, chosen)
    awarded = grade(
        answer=item.answer,
        response=response,
        points=item.points,
        kind=item.kind,
        partial_credit=paper.partial_credit,
    )
    _paper, save, refused = _answer_sql(connection.vendor)
    stamp = connection.ops.adapt_datetimefield_value(now)
    open_ = Attempt.Status.IN_PROGRESS
    with caches.write_gate(), connection.cursor() as cursor:
        # SET response, answered_at, awarded, seq; WHERE item, its seq, the paper's, the owner.
        values = [response, stamp, awarded, seq, item.item_id, seq, seq, attempt.pk]
        cursor.execute(save, [*values, attempt.pk, worker.pk, open_])
        if cursor.rowcount:
            return SavedAnswer(position, response, to_displayed(shown, response))
        # Refused: say why.
        cursor.execute(refused, [item.item_id, attempt.pk])
        row = cursor.fetchone()
    if row is None:  # deleted meanwhile (its contest removed)
        raise NotFound(detail={"attempt": attempt.pk})
    status, last_seq, previous = row
    if status != open_:
        raise AttemptClosed(detail={"attempt": attempt.pk, "status": status})
    if response == previous:
        # A repeat of a save already applied.
        return SavedAnswer(position, response, to_displayed(shown, response))
    raise StaleSequence(detail={"seq": last_seq})


def _last_seq(attempt: Attempt) -> int:
    """The sequence number of the attempt's last accepted save (0 before the first)."""
    found = AttemptItem.objects.filter(attempt=attempt).aggregate(last=models.Max("seq"))["last"]
    return int(found or 0)


def attempt_submit(*, attempt: Attempt, worker: Any, seq: int | None = None) -> Attempt:
    """Hand in the paper. A second submit returns the finished attempt unchanged; a submit
    older than the last save (``seq``) or later than the deadline plus grace is refused."""
    with caches.write_gate(), transaction.atomic():
        return _submit(attempt=attempt, worker=worker, seq=seq)


def _submit(*, attempt: Attempt, worker: Any, seq: int | None) -> Attempt:
    attempt = _locked(attempt, worker)
    if attempt.is_finished:
        return attempt
    now = clock.now()
    if now > _closes_at(attempt, attempt.contest):
        raise TimeUp(detail={"attempt": attempt.pk, "deadline": attempt.deadline.isoformat()})
    if seq is not None:
        last = _last_seq(attempt)
        if seq < last:
            raise StaleSequence(detail={"seq": last})
    _finish(attempt, status=Attempt.Status.SUBMITTED, at=now)
    return attempt


def _better(a: Attempt, r: ContestResult) -> bool:
    assert a.elapsed_ms is not None
    return (a.score, -a.elapsed_ms) > (r.score, -r.elapsed_ms)


def _finish(attempt: Attempt, *, status: str, at: dt.datetime) -> None:
    """Score a locked attempt, keep the counted result, report participation, certify."""
    contest = attempt.contest
    score = sum(AttemptItem.objects.filter(attempt=attempt).values_list("awarded", flat=True))
    limit_ms = contest.time_limit_s * 1000
    elapsed = min(int((at - attempt.started_at).total_seconds() * 1000), limit_ms)
    attempt.status = status
    attempt.finished_at = at
    attempt.elapsed_ms = max(elapsed, 0)
    attempt.score = score
    attempt.passed = score >= contest.pass_score
    attempt.save(
        update_fields=["status", "finished_at", "elapsed_ms", "score", "passed", "updated_at"]
    )
    organization = attempt.organization
    result = (
        ContestResult.objects.select_for_update()
        .filter(contest=contest, worker_id=attempt.worker_id)
        .first()
    )
    fields = {
        "attempt": attempt,
        "organization": organization,
        "org_path": organization.path,
        "zone_city_id": attempt.zone_city_id,
        "score": score,
        "elapsed_ms": attempt.elapsed_ms,
        "finished_at": at,
        "passed": attempt.passed,
    }
    if result is None:
        ContestResult.objects.create(contest=contest, worker_id=attempt.worker_id, **fields)
    else:
        result.tries += 1
        counts = contest.counted == Contest.Counted.LAST or (
            contest.counted == Contest.Counted.BEST and _better(attempt, result)
        )
        if counts:
            for name, value in fields.items():
                setattr(result, name, value)
        result.save()
    participation_record(
        campaign=contest.campaign,
        worker=attempt.worker,
        kind="quiz",
        key=f"quiz-attempt:{attempt.pk}",
        organization=organization,
        zone_city=attempt.zone_city,
        value=score,
    )
    if contest.certificate == Contest.CertificateRule.FINISHED or (
        contest.certificate == Contest.CertificateRule.PASSED and attempt.passed
    ):
        _certify(attempt)


def certificate_source(*, contest: Contest, worker: Any) -> str:
    return f"quiz-contest:{contest.pk}:{worker.pk}"


def _duration(ms: int) -> str:
    seconds = ms // 1000
    return str(_("%(m)d分%(s)d秒") % {"m": seconds // 60, "s": seconds % 60})


def _certify(attempt: Attempt) -> None:
    from saidao.certificates.models import Certificate
    from saidao.certificates.services import certificate_issue

    contest = attempt.contest
    worker = attempt.worker
    assert attempt.elapsed_ms is not None and attempt.finished_at is not None
    certificate_issue(
        holder=worker,
        holder_name=worker.real_name,
        kind=Certificate.Kind.CONTEST,
        title=str(_("成绩合格") if attempt.passed else _("完成答题")),
        event_name=contest.title,
        issuer=contest.campaign.organizer,
        issued_on=attempt.finished_at.astimezone(clock.SHANGHAI).date(),
        details=[
            (str(_("成绩")), str(_("%(n)d 分") % {"n": attempt.score})),
            (str(_("用时")), _duration(attempt.elapsed_ms)),
        ],
        source=certificate_source(contest=contest, worker=worker),
    )


def _expire_one(*, attempt_id: int, at: dt.datetime) -> bool:
    with caches.write_gate(), transaction.atomic():
        return _expire(attempt_id=attempt_id, at=at)


def _expire(*, attempt_id: int, at: dt.datetime) -> bool:
    attempt = (
        Attempt.objects.select_for_update()
        .select_related("contest", "organization", "worker")
        .filter(pk=attempt_id, status=Attempt.Status.IN_PROGRESS)
        .first()
    )
    if attempt is None or at <= _closes_at(attempt, attempt.contest):
        return False
    # Handed in with what was saved, at the deadline: the time limit is the time taken.
    _finish(attempt, status=Attempt.Status.TIMED_OUT, at=attempt.deadline)
    return True


def attempts_expire(*, at: dt.datetime | None = None) -> int:
    """Hand in every attempt whose deadline plus grace has passed; returns how many."""
    at = at or clock.now()
    due = Attempt.objects.filter(status=Attempt.Status.IN_PROGRESS, deadline__lt=at).values_list(
        "pk", flat=True
    )
    return sum(_expire_one(attempt_id=pk, at=at) for pk in list(due[:1000]))


def _ensure_sweeper() -> None:
    from .tasks import ensure_sweeper  # tasks imports this module

    ensure_sweeper()
