"""Pages of the knowledge contests: the worker's contest, attempt, result and leaderboard, and
the officer's bank, import, contest settings and results.

One service, two front doors: every rule (tries, time, scope, grading, what is revealed) is in
``services`` and ``selectors``; these views only turn requests into calls and errors into
messages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from saidao.accounts.models import User
from saidao.campaigns import selectors as campaign_selectors
from saidao.campaigns.errors import CampaignNotPublished, PhaseClosed
from saidao.campaigns.models import Campaign
from saidao.core import clock
from saidao.core.errors import NotFound, OutsideScope, SaidaoError
from saidao.core.forms import form_add_error
from saidao.core.imports import import_goes_background
from saidao.orgs import selectors as org_selectors
from saidao.orgs.models import Organization

from . import page_selectors, selectors, services
from .forms import ContestForm, ImportForm, QuestionForm, RuleFormSet
from .models import Attempt, Contest, Question

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _scoped(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Outside the officer's subtree is a 404 (not even confirmed to exist), or a 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as e:
            raise Http404(str(e.message)) from None
        except OutsideScope as e:
            raise PermissionDenied(str(e.message)) from None

    return wrapper


def _contest(pk: int) -> Contest:
    try:
        return selectors.contest_get(pk=pk)
    except NotFound:
        raise Http404 from None


def _attempt(request: HttpRequest, pk: int) -> Attempt:
    try:
        return selectors.attempt_get_for_worker(worker=_user(request), pk=pk)
    except NotFound:
        raise Http404 from None


def _closed_message(contest: Contest) -> str | None:
    """Why the quiz cannot be taken now (when it opens, or when it closed), or None."""
    try:
        campaign_selectors.phase_require(campaign=contest.campaign, switch="quiz_open")
    except PhaseClosed as e:
        return str(e.message)
    return None


def _duration(ms: int | None) -> str:
    if ms is None:
        return ""
    seconds = ms // 1000
    return _("%(m)d分%(s)02d秒") % {"m": seconds // 60, "s": seconds % 60}


# --- the worker's pages ---------------------------------------------------------------------


def campaign_contest(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign page's way in: its (first) contest."""
    try:
        campaign = campaign_selectors.campaign_get_published(slug=slug)
    except CampaignNotPublished:
        raise Http404 from None
    contest = selectors.contests_of_campaign(campaign=campaign).first()
    if contest is None:  # the phase is open but the organizer has not set the contest up yet
        raise NotFound(_("这项活动的知识竞赛还没有发布，请稍后再来。"))
    return redirect("quizzes:contest", pk=contest.pk)


def contest(request: HttpRequest, pk: int) -> HttpResponse:
    """Rules, time limit, tries left today, my best and my rank, and the way to start."""
    c = _contest(pk)
    rules = list(c.rules.all())
    for r in rules:
        label = r.category or _("不限分类")
        if r.difficulty:
            label = f"{label} · {r.get_difficulty_display()}"
        r.label = label  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "contest": c,
        "rules": rules,
        "question_total": sum(r.count for r in rules),
        "max_score": sum(r.count * r.points for r in rules),
        "time_limit_min": c.time_limit_s // 60,
        "time_limit_sec": c.time_limit_s % 60,
        "closed_message": _closed_message(c),
    }
    if request.user.is_authenticated:
        worker = _user(request)
        result = selectors.result_of_worker(contest=c, worker=worker)
        context.update(
            tries=selectors.tries_today(contest=c, worker=worker),
            current=selectors.attempt_current(contest=c, worker=worker),
            result=result,
            best_time=_duration(result.elapsed_ms) if result else "",
            rank=selectors.worker_rank(contest=c, worker=worker) if result else None,
            certificate=page_selectors.certificate_of(contest=c, worker=worker) if result else None,
        )
    return render(request, "quizzes/contest.html", context)


@login_required
@require_POST
def start(request: HttpRequest, pk: int) -> HttpResponse:
    c = _contest(pk)
    try:
        attempt = services.attempt_start(contest=c, worker=_user(request))
    except SaidaoError as e:
        messages.error(request, str(e.message))
        return redirect("quizzes:contest", pk=c.pk)
    return redirect("quizzes:attempt", pk=attempt.pk)


@never_cache
@login_required
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    """One question per screen; the page gets the paper (never the answers), the worker's
    saved answers and the time left by the server's deadline."""
    a = _attempt(request, pk)
    if a.is_finished:
        return redirect("quizzes:result", pk=a.pk)
    paper = selectors.attempt_paper(attempt=a)
    time_left_ms = max(0, int((paper.deadline - clock.now()).total_seconds() * 1000))
    return render(
        request,
        "quizzes/attempt.html",
        {
            "attempt": a,
            "contest": a.contest,
            "paper": paper,
            "time_left_ms": time_left_ms,
            "time_left": f"{paper.seconds_left // 60:02d}:{paper.seconds_left % 60:02d}",
        },
    )


def _error_json(e: SaidaoError) -> JsonResponse:
    return JsonResponse(e.as_dict(), status=e.status)


@login_required
@require_POST
def save(request: HttpRequest, pk: int) -> JsonResponse:
    """Save one answer (fetch from the attempt page): position, choice, seq."""
    a = _attempt(request, pk)
    try:
        position = int(request.POST.get("position", ""))
        seq = int(request.POST.get("seq", ""))
    except ValueError:
        return JsonResponse(
            {"code": "invalid", "message": _("请求格式有误。"), "detail": {}}, status=400
        )
    try:
        item = services.attempt_answer(
            attempt=a,
            worker=_user(request),
            position=position,
            choice=request.POST.get("choice", ""),
            seq=seq,
        )
    except SaidaoError as e:
        return _error_json(e)
    return JsonResponse({"position": item.position, "seq": seq, "saved": True})


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand in. Without the page's script the form carries every answer: they are saved
    first (each a save with the next sequence number), then the paper is handed in."""
    a = _attempt(request, pk)
    worker = _user(request)
    wants_json = "application/json" in request.headers.get("Accept", "")
    result_url = reverse("quizzes:result", args=[a.pk])
    seq_raw = request.POST.get("seq", "")
    seq = int(seq_raw) if seq_raw.isdigit() else None
    try:
        if not a.is_finished:
            seq = _save_posted_answers(request, a, worker, seq)
        services.attempt_submit(attempt=a, worker=worker, seq=seq)
    except SaidaoError as e:
        if wants_json:
            payload = e.as_dict() | {"result_url": result_url}
            return JsonResponse(payload, status=e.status)
        messages.error(request, str(e.message))
        return redirect(result_url)
    if wants_json:
        return JsonResponse({"result_url": result_url})
    return redirect(result_url)


def _save_posted_answers(
    request: HttpRequest, a: Attempt, worker: User, seq: int | None
) -> int | None:
    """Save the answers a script-less form posted that differ from the saved ones; returns
    the sequence number the submit then carries."""
    paper = selectors.attempt_paper(attempt=a)
    if seq is not None and seq < paper.seq:
        return seq  # an older page than the last save: the submit refuses it as stale
    n, saved = paper.seq, False
    for q in paper.questions:
        field = f"q{q.position}"
        if field not in request.POST:
            continue
        choice = "".join(sorted(request.POST.getlist(field)))
        if choice != q.chosen:
            n += 1
            services.attempt_answer(
                attempt=a, worker=worker, position=q.position, choice=choice, seq=n
            )
            saved = True
    return n if saved else seq


@never_cache
@login_required
def result(request: HttpRequest, pk: int) -> HttpResponse:
    """Score, pass or fail, each question with the correct answer and explanation when the
    contest reveals them, the certificate and my rank."""
    a = _attempt(request, pk)
    c = a.contest
    if not a.is_finished:
        if selectors.attempt_current(contest=c, worker=_user(request)) is not None:
            return redirect("quizzes:attempt", pk=a.pk)
        # Time ran out with the page closed: the sweeper hands it in within seconds.
        return render(request, "quizzes/result_pending.html", {"attempt": a, "contest": c})
    worker = _user(request)
    review = selectors.attempt_review(attempt=a)
    result_ = selectors.result_of_worker(contest=c, worker=worker)
    return render(
        request,
        "quizzes/result.html",
        {
            "attempt": a,
            "contest": c,
            "review": review,
            "elapsed": _duration(review.elapsed_ms),
            "counted": result_ is not None and result_.attempt_id == a.pk,
            "result": result_,
            "rank": selectors.worker_rank(contest=c, worker=worker),
            "tries": selectors.tries_today(contest=c, worker=worker),
            "certificate": page_selectors.certificate_of(contest=c, worker=worker),
            "closed_message": _closed_message(c),
        },
    )


def leaderboard(request: HttpRequest, pk: int) -> HttpResponse:
    """Individuals by counted score then time; organizations (the children of the organizer,
    or of ``?org=`` within it) by participants and average score."""
    c = _contest(pk)
    organizer = c.campaign.organizer
    parent = organizer
    org_id = request.GET.get("org", "")
    if org_id.isdigit() and int(org_id) != organizer.pk:
        found = Organization.objects.filter(pk=int(org_id)).first()
        if found is None or not found.path.startswith(organizer.path):
            raise Http404
        parent = found
    ancestors = [
        o
        for o in org_selectors.organization_ancestors(organization=parent)
        if o.path.startswith(organizer.path)
    ]
    rows = selectors.contest_leaderboard(contest=c, limit=50)
    for row in rows:
        row.time = _duration(row.elapsed_ms)  # type: ignore[attr-defined]
    mine = None
    if request.user.is_authenticated:
        mine = selectors.worker_rank(contest=c, worker=request.user)
        if mine is not None:
            mine.time = _duration(mine.elapsed_ms)  # type: ignore[attr-defined]
    return render(
        request,
        "quizzes/leaderboard.html",
        {
            "contest": c,
            "rows": rows,
            "mine": mine,
            "parent": parent,
            "ancestors": ancestors,
            "orgs": selectors.organizations_by_average(contest=c, parent=parent),
        },
    )


# --- the officer's pages --------------------------------------------------------------------


def _officer(request: HttpRequest) -> User:
    user = _user(request)
    if not org_selectors.user_is_officer(user=user):
        raise NotFound()
    return user


def _file(body: bytes, filename: str, content_type: str) -> HttpResponse:
    resp = HttpResponse(body, content_type=content_type)
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@login_required
@_scoped
def officer_index(request: HttpRequest) -> HttpResponse:
    """My banks and my contests, and campaigns with a quiz phase still without a contest."""
    officer = _officer(request)
    contests = list(selectors.contests_for_officer(user=officer).order_by("-created_at", "-id"))
    return render(
        request,
        "quizzes/officer/index.html",
        {
            "banks": page_selectors.bank_roots(user=officer),
            "contests": contests,
            "awaiting": page_selectors.campaigns_awaiting_contest(user=officer),
        },
    )


@login_required
@_scoped
def bank(request: HttpRequest, org_id: int) -> HttpResponse:
    """One organization's question bank, by category, 50 a page."""
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    category = request.GET.get("category", "")
    questions = selectors.questions_for_officer(user=officer, organization=org, category=category)
    page = Paginator(questions, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "quizzes/officer/bank.html",
        {
            "org": org,
            "page": page,
            "category": category,
            "categories": selectors.question_categories(organization=org),
        },
    )


def _question_save(
    request: HttpRequest, form: QuestionForm, *, org: Organization, question: Question | None
) -> Question | None:
    d = form.cleaned_data
    fields = {
        "kind": d["kind"],
        "stem": d["stem"],
        "options": form.options(),
        "answer": d["answer"],
        "category": d.get("category") or "",
        "difficulty": d["difficulty"],
        "explanation": d.get("explanation") or "",
        "source": d.get("source") or "",
    }
    try:
        if question is None:
            return services.question_create(actor=_user(request), organization=org, **fields)
        return services.question_update(actor=_user(request), question=question, **fields)
    except SaidaoError as e:
        if e.detail.get("fields"):
            e.detail["fields"] = _form_field_names(e.detail["fields"])
        form_add_error(form, e)
        return None


def _form_field_names(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service names the option list ``options``; the form has one field per letter."""
    out = dict(fields)
    if "options" in out:
        out["option_a"] = out.pop("options")
    return out


@login_required
@_scoped
def question_new(request: HttpRequest, org_id: int) -> HttpResponse:
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        question = _question_save(request, form, org=org, question=None)
        if question is not None:
            messages.success(request, _("题目已添加。"))
            return redirect(reverse("quizzes:bank", args=[org.pk]))
    return render(
        request, "quizzes/officer/question.html", {"org": org, "form": form, "question": None}
    )


@login_required
@_scoped
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a question; one already drawn into papers gets a new version (old papers keep
    theirs)."""
    officer = _officer(request)
    question = selectors.question_get_for_officer(user=officer, pk=pk)
    org = question.organization
    if request.method == "POST" and request.POST.get("archive"):
        services.question_archive(actor=officer, question=question)
        messages.success(request, _("题目已停用，不会再被抽到。"))
        return redirect(reverse("quizzes:bank", args=[org.pk]))
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    if request.method == "POST" and form.is_valid():
        saved = _question_save(request, form, org=org, question=question)
        if saved is not None:
            messages.success(request, _("题目已保存。"))
            return redirect(reverse("quizzes:bank", args=[org.pk]))
    return render(
        request,
        "quizzes/officer/question.html",
        {"org": org, "form": form, "question": question},
    )


@login_required
@_scoped
def bank_import(request: HttpRequest, org_id: int) -> HttpResponse:
    """Upload .xlsx or .csv: all or nothing, every error listed with its row, column, reason."""
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[dict[str, Any]] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if import_goes_background(upload, filename=upload.name or "", csv_ok=True):
                job = services.questions_import_start(actor=officer, organization=org, file=upload)
                return redirect(reverse("core:import_job", args=[job.pk]))
            imported = services.questions_import(
                actor=officer, organization=org, file=upload, filename=upload.name or ""
            )
        except SaidaoError as e:
            errors = list(e.detail.get("errors") or [])
            if not errors:
                form_add_error(form, e)
            else:
                form.add_error(None, str(e.message))
        else:
            messages.success(request, _("已导入 %(n)d 道题目。") % {"n": len(imported)})
            return redirect(reverse("quizzes:bank", args=[org.pk]))
    return render(
        request, "quizzes/officer/import.html", {"org": org, "form": form, "errors": errors}
    )


@login_required
@_scoped
def bank_export(request: HttpRequest, org_id: int) -> HttpResponse:
    officer = _officer(request)
    org = org_selectors.organization_get_for_officer(user=officer, pk=org_id)
    fmt = "csv" if request.GET.get("fmt") == "csv" else "xlsx"
    questions = list(selectors.questions_for_officer(user=officer, organization=org))
    body = services.questions_export(questions=questions, fmt=fmt)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return _file(body, f"questions-{org.pk}.{fmt}", content_type)


@login_required
def question_template(request: HttpRequest) -> HttpResponse:
    fmt = "csv" if request.GET.get("fmt") == "csv" else "xlsx"
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else XLSX
    return _file(services.question_template(fmt=fmt), f"question-template.{fmt}", content_type)


def _rules_initial(contest: Contest | None) -> list[dict[str, Any]]:
    if contest is None:
        return [{"count": 10, "points": 10}]
    return [
        {
            "category": r.category,
            "difficulty": r.difficulty,
            "count": r.count,
            "points": r.points,
        }
        for r in contest.rules.all()
    ]


def _rules_from(formset: Any) -> list[services.RuleSpec]:
    return [
        services.RuleSpec(
            count=f.cleaned_data["count"],
            points=f.cleaned_data["points"],
            category=f.cleaned_data.get("category") or "",
            difficulty=f.cleaned_data.get("difficulty") or "",
        )
        for f in formset.forms
        if f.cleaned_data.get("count") and f.cleaned_data.get("points")
    ]


def _contest_form_page(
    request: HttpRequest, *, campaign: Campaign, contest: Contest | None
) -> HttpResponse:
    officer = _user(request)
    initial = ContestForm.initial_for(contest) if contest else {"title": campaign.title}
    form = ContestForm(request.POST or None, initial=initial)
    rules = RuleFormSet(request.POST or None, initial=_rules_initial(contest), prefix="rules")
    if request.method == "POST" and form.is_valid() and rules.is_valid():
        values = {k: form.cleaned_data[k] for k in ContestForm.SETTINGS}
        try:
            if contest is None:
                contest = services.contest_create(
                    actor=officer, campaign=campaign, rules=_rules_from(rules), **values
                )
            else:
                contest = services.contest_update(
                    actor=officer, contest=contest, rules=_rules_from(rules), **values
                )
        except SaidaoError as e:
            form_add_error(form, e)
        else:
            messages.success(request, _("竞赛设置已保存。"))
            return redirect(reverse("quizzes:contest_settings", args=[contest.pk]))
    return render(
        request,
        "quizzes/officer/contest.html",
        {
            "campaign": campaign,
            "contest": contest,
            "form": form,
            "rules": rules,
            "categories": selectors.question_categories(
                organization=contest.bank if contest else campaign.organizer
            ),
        },
    )


@login_required
@_scoped
def contest_new(request: HttpRequest, campaign_id: int) -> HttpResponse:
    officer = _officer(request)
    campaign = campaign_selectors.campaign_get_for_officer(user=officer, pk=campaign_id)
    return _contest_form_page(request, campaign=campaign, contest=None)


@login_required
@_scoped
def contest_settings(request: HttpRequest, pk: int) -> HttpResponse:
    officer = _officer(request)
    c = selectors.contest_get_for_officer(user=officer, pk=pk)
    return _contest_form_page(request, campaign=c.campaign, contest=c)


def _results_parent(request: HttpRequest, officer: User) -> Organization | None:
    org_id = request.GET.get("org", "")
    if not org_id.isdigit():
        return None
    return org_selectors.organization_get_for_officer(user=officer, pk=int(org_id))


@login_required
@_scoped
def contest_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Results by organization within my subtree (or ``?org=``'s), with .xlsx export."""
    officer = _officer(request)
    c = selectors.contest_get_for_officer(user=officer, pk=pk)
    parent = _results_parent(request, officer)
    rows = selectors.results_by_organization(user=officer, contest=c, parent=parent)
    return render(
        request,
        "quizzes/officer/results.html",
        {
            "contest": c,
            "rows": rows,
            "parent": parent,
            "participants": sum(r.participants for r in rows),
            "passed": sum(r.passed for r in rows),
        },
    )


@login_required
@_scoped
def contest_results_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    officer = _officer(request)
    c = selectors.contest_get_for_officer(user=officer, pk=pk)
    parent = _results_parent(request, officer)
    body = selectors.results_xlsx(user=officer, contest=c, parent=parent)
    return _file(body, f"contest-{c.pk}-results.xlsx", XLSX)
