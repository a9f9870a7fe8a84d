"""The contest pages: the worker's contest, attempt, result and leaderboard; the officer's bank,
import, contest settings and results. Rules are the services'; these tests check that the pages
use them, stay in scope, and never put the answers in the page before the paper is handed in."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from saidao.accounts.models import User
from saidao.conftest import Tree
from saidao.quizzes import selectors, services
from saidao.quizzes.models import Attempt, AttemptItem, Contest, Question
from saidao.quizzes.page_selectors import contest_cards
from saidao.quizzes.tests.conftest import Clock
from saidao.quizzes.tests.factories import (
    answer_all,
    make_contest,
    member_of,
    questions_file,
    quiz_campaign,
    row,
)

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def contest(tree: Tree) -> Contest:
    """A contest of 定西市总工会, open now: 5 questions of 20 points, pass mark 60."""
    return make_contest(actor=tree.city_officer, organizer=tree.dingxi)


@pytest.fixture
def worker(tree: Tree) -> User:
    """A member of 安定区快递行业工会联合会 (inside 定西市's subtree)."""
    return member_of(tree.courier, real_name="韩永强")


def _start(client: Client, contest: Contest) -> Attempt:
    resp = client.post(reverse("quizzes:start", args=[contest.pk]))
    assert resp.status_code == 302
    attempt = Attempt.objects.get(contest=contest, status=Attempt.Status.IN_PROGRESS)
    assert resp["Location"] == reverse("quizzes:attempt", args=[attempt.pk])
    return attempt


def _correct(attempt: Attempt) -> dict[int, str]:
    return {
        item.position: services.stored_to_displayed(item, item.version.answer)
        for item in AttemptItem.objects.filter(attempt=attempt).select_related("version")
    }


# --- the worker's pages ---------------------------------------------------------------------


def test_contest_page_shows_rules_and_asks_a_visitor_to_log_in(contest: Contest) -> None:
    """Anyone sees the rules (questions, time limit, pass mark, tries a day); a visitor is
    asked to log in before starting."""
    html = Client().get(reverse("quizzes:contest", args=[contest.pk])).content.decode()
    assert contest.title in html
    assert "每天可答 3 次" in html and "60 分及格" in html and "限时 10 分钟" in html
    assert "登录后参加答题" in html and 'data-testid="start"' not in html


def test_contest_page_before_and_after_the_quiz_phase_says_when(tree: Tree, clock: Clock) -> None:
    """Before the quiz phase the page says when it opens; after, when it closed; no start
    button either time."""
    campaign = quiz_campaign(actor=tree.city_officer, organizer=tree.dingxi, open_now=False)
    c = make_contest(actor=tree.city_officer, organizer=tree.dingxi, campaign=campaign)
    client = _client(member_of(tree.courier))
    html = client.get(reverse("quizzes:contest", args=[c.pk])).content.decode()
    assert 'data-testid="closed"' in html and "尚未开始" in html and "开放" in html
    assert 'data-testid="start"' not in html
    clock.advance(days=40)
    html = client.get(reverse("quizzes:contest", args=[c.pk])).content.decode()
    assert 'data-testid="closed"' in html and "已于" in html and "结束" in html
    assert 'data-testid="start"' not in html


def test_contest_page_shows_tries_left_and_my_best_and_rank(contest: Contest, worker: User) -> None:
    """After a finished try the page shows tries left today, my best score and my rank."""
    client = _client(worker)
    html = client.get(reverse("quizzes:contest", args=[contest.pk])).content.decode()
    assert "今天还可以答 3 次" in html and 'data-testid="start"' in html
    attempt = _start(client, contest)
    seq = answer_all(attempt, worker)
    services.attempt_submit(attempt=attempt, worker=worker, seq=seq)
    html = client.get(reverse("quizzes:contest", args=[contest.pk])).content.decode()
    assert "今天还可以答 2 次" in html
    assert 'data-testid="my-best"' in html and "100" in html and "排名第 1 名" in html


def test_a_fourth_try_on_a_three_tries_day_is_refused_on_the_page(
    contest: Contest, worker: User
) -> None:
    """With today's three tries used the page says so, and a start is refused with the
    service's message."""
    client = _client(worker)
    for _i in range(3):
        a = _start(client, contest)
        services.attempt_submit(attempt=a, worker=worker)
    html = client.get(reverse("quizzes:contest", args=[contest.pk])).content.decode()
    assert 'data-testid="no-tries"' in html and 'data-testid="start"' not in html
    resp = client.post(reverse("quizzes:start", args=[contest.pk]), follow=True)
    assert "次答题机会已用完" in resp.content.decode()
    assert Attempt.objects.filter(contest=contest, worker=worker).count() == 3


def test_a_worker_outside_the_contests_scope_cannot_start(tree: Tree, contest: Contest) -> None:
    """A member of 东营市总工会 is outside 定西市's contest: no attempt, the reason shown."""
    client = _client(tree.dongying_member.user)
    resp = client.post(reverse("quizzes:start", args=[contest.pk]), follow=True)
    assert "该活动仅面向定西市总工会及其下级工会的会员" in resp.content.decode()
    assert not Attempt.objects.filter(contest=contest).exists()


def test_attempt_page_has_the_paper_but_never_the_answers(contest: Contest, worker: User) -> None:
    """The attempt page shows every question with its options in the drawn order and the
    time left, but no correct answer, explanation or score marking anywhere in the HTML."""
    client = _client(worker)
    attempt = _start(client, contest)
    resp = client.get(reverse("quizzes:attempt", args=[attempt.pk]))
    html = resp.content.decode()
    assert resp["Cache-Control"].startswith("max-age=0") or "no-cache" in resp["Cache-Control"]
    items = list(AttemptItem.objects.filter(attempt=attempt).select_related("version"))
    assert len(items) == 5
    for item in items:
        v = item.version
        assert v.stem in html
        shown = [v.options[i] for i in services.option_order(item)]
        positions = [html.index(f"<span>{text}</span>") for text in shown]
        assert positions == sorted(positions)  # the paper's option order
        assert v.explanation not in html
    for marker in ("解析", "正确答案", "correct", "answer", "awarded"):
        assert marker not in html
    assert 'data-time-left-ms="' in html
    assert "10:00" in html or "09:5" in html


def test_reloading_the_attempt_gives_the_same_paper_answers_and_time_left(
    contest: Contest, worker: User, clock: Clock
) -> None:
    """A reload a minute later: the same questions in the same order with the saved answers
    ticked, and a minute less on the server's clock; starting again continues it."""
    client = _client(worker)
    attempt = _start(client, contest)
    url = reverse("quizzes:attempt", args=[attempt.pk])
    first = client.get(url)
    resp = client.post(
        reverse("quizzes:save", args=[attempt.pk]), {"position": 1, "choice": "B", "seq": 1}
    )
    assert resp.status_code == 200 and resp.json() == {"position": 1, "seq": 1, "saved": True}
    clock.advance(seconds=60)
    second = client.get(url)
    assert first.context["paper"].questions[0].stem == second.context["paper"].questions[0].stem
    assert [q.stem for q in first.context["paper"].questions] == [
        q.stem for q in second.context["paper"].questions
    ]
    assert second.context["paper"].questions[0].chosen == "B"
    assert 'value="B" checked' in second.content.decode()
    left = first.context["time_left_ms"] - second.context["time_left_ms"]
    assert 59_000 <= left <= 61_000
    assert second.context["paper"].seq == 1
    again = _start(client, contest)
    assert again.pk == attempt.pk


def test_saves_refuse_a_stale_sequence_and_questions_not_in_the_paper(
    contest: Contest, worker: User
) -> None:
    """A save with an older sequence number is refused (409 stale_sequence, the server's
    number in the detail); the same save repeated is accepted and changes nothing; a position
    not on the paper is refused; another worker's attempt does not exist."""
    client = _client(worker)
    attempt = _start(client, contest)
    save = reverse("quizzes:save", args=[attempt.pk])
    assert client.post(save, {"position": 1, "choice": "A", "seq": 2}).status_code == 200
    assert client.post(save, {"position": 1, "choice": "A", "seq": 2}).status_code == 200
    stale = client.post(save, {"position": 2, "choice": "B", "seq": 1})
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_sequence" and stale.json()["detail"]["seq"] == 2
    missing = client.post(save, {"position": 99, "choice": "A", "seq": 3})
    assert missing.status_code == 400 and missing.json()["code"] == "not_in_paper"
    assert client.post(save, {"position": "x", "seq": 3}).status_code == 400
    other = _client(member_of(contest.campaign.organizer))
    assert other.post(save, {"position": 1, "choice": "A", "seq": 9}).status_code == 404


def test_submit_shows_score_explanations_certificate_and_rank(
    contest: Contest, worker: User
) -> None:
    """After the fetch submit the result page shows the score, pass, every correct answer and
    explanation, the certificate's image and PDF (which answer with their types) and the rank;
    a second submit changes nothing."""
    client = _client(worker)
    attempt = _start(client, contest)
    seq = answer_all(attempt, worker)
    submit = reverse("quizzes:submit", args=[attempt.pk])
    resp = client.post(submit, {"seq": seq}, HTTP_ACCEPT="application/json")
    result_url = reverse("quizzes:result", args=[attempt.pk])
    assert resp.json() == {"result_url": result_url}
    again = client.post(submit, {"seq": seq}, HTTP_ACCEPT="application/json")
    assert again.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED and attempt.score == 100
    html = client.get(result_url).content.decode()
    assert "100" in html and 'data-testid="passed"' in html and "及格" in html
    correct = _correct(attempt)
    for item in AttemptItem.objects.filter(attempt=attempt).select_related("version"):
        assert item.version.explanation in html
        assert f'<span data-testid="correct">{correct[item.position]}</span>' in html
    assert "当前排名第 1 名" in html
    cert = client.get(result_url).context["certificate"]
    assert cert is not None and cert.holder_id == worker.pk
    png = client.get(reverse("certificates:png", args=[cert.code]))
    pdf = client.get(reverse("certificates:pdf", args=[cert.code]))
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert client.get(reverse("quizzes:attempt", args=[attempt.pk]))["Location"] == result_url


def test_a_form_submit_without_script_saves_the_posted_answers(
    contest: Contest, worker: User
) -> None:
    """Without the page's script the form posts every answer with the submit: they are saved
    through the service, then the paper is handed in and scored."""
    client = _client(worker)
    attempt = _start(client, contest)
    correct = _correct(attempt)
    data: dict[str, Any] = {"seq": "0"}
    for position, letters in correct.items():
        data[f"q{position}"] = list(letters)
    resp = client.post(reverse("quizzes:submit", args=[attempt.pk]), data)
    assert resp.status_code == 302
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED
    assert attempt.score == 100
    assert selectors.attempt_paper(attempt=attempt).seq == 5


def test_a_submit_after_deadline_and_grace_is_refused(
    contest: Contest, worker: User, clock: Clock
) -> None:
    """Past the deadline plus grace the submit is refused (time_up) and the result page says
    the paper is being handed in by the server."""
    client = _client(worker)
    attempt = _start(client, contest)
    clock.advance(seconds=contest.time_limit_s + contest.grace_s + 1)
    resp = client.post(
        reverse("quizzes:submit", args=[attempt.pk]), {"seq": "0"}, HTTP_ACCEPT="application/json"
    )
    assert resp.status_code == 409 and resp.json()["code"] == "time_up"
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    html = client.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()
    assert 'data-testid="result-pending"' in html
    services.attempts_expire()
    html = client.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()
    assert "时间到，已自动交卷" in html


def test_answers_hidden_on_the_result_when_the_contest_reveals_after_close(
    tree: Tree, worker: User
) -> None:
    """With answers revealed after the quiz phase, the result has the score but no correct
    answers or explanations while the phase is open."""
    c = make_contest(actor=tree.city_officer, organizer=tree.dingxi, reveal="after_close")
    client = _client(worker)
    attempt = _start(client, c)
    services.attempt_submit(attempt=attempt, worker=worker, seq=answer_all(attempt, worker))
    html = client.get(reverse("quizzes:result", args=[attempt.pk])).content.decode()
    assert 'data-testid="not-revealed"' in html and 'data-testid="correct"' not in html
    for item in AttemptItem.objects.filter(attempt=attempt).select_related("version"):
        assert item.version.explanation not in html


def _finish(contest: Contest, worker: User, *, right: bool) -> None:
    attempt = services.attempt_start(contest=contest, worker=worker)
    seq = answer_all(attempt, worker, right=right)
    services.attempt_submit(attempt=attempt, worker=worker, seq=seq)


def test_leaderboard_ranks_individuals_and_organizations_in_few_queries(
    tree: Tree, contest: Contest, worker: User, django_assert_num_queries: Any
) -> None:
    """Individuals by score with masked names; the organizer's children by average score;
    my rank highlighted; the query count does not grow with the number of results."""
    _finish(contest, worker, right=True)
    for _i in range(3):
        _finish(contest, member_of(tree.tongwei), right=False)
    client = _client(worker)
    url = reverse("quizzes:leaderboard", args=[contest.pk])
    with django_assert_num_queries(13):
        resp = client.get(url)
    html = resp.content.decode()
    rows = resp.context["rows"]
    assert [r.score for r in rows] == [100, 0, 0, 0]
    assert rows[0].name == "韩**" and "韩永强" not in html
    assert resp.context["mine"].rank == 1
    orgs = resp.context["orgs"]
    assert [(o.organization.name, o.participants) for o in orgs] == [
        ("安定区总工会", 1),
        ("通渭县总工会", 3),
    ]
    for _i in range(3):
        _finish(contest, member_of(tree.courier), right=True)
    with django_assert_num_queries(13):
        client.get(url)
    drill = client.get(url, {"org": tree.anding.pk})
    assert [o.organization.name for o in drill.context["orgs"]] == ["安定区快递行业工会联合会"]
    assert client.get(url, {"org": tree.dongying.pk}).status_code == 404


def test_home_page_card_and_campaign_link_lead_to_the_open_contest(
    tree: Tree, contest: Contest
) -> None:
    """The provider gives a card for a contest whose quiz is open; the campaign's link
    redirects to its contest; a contest not open yet has no card; a campaign whose quiz phase
    is open without a contest says it is not published yet."""
    cards = contest_cards(None)
    assert [c.url for c in cards] == [reverse("quizzes:contest", args=[contest.pk])]
    resp = Client().get(reverse("quizzes:campaign", args=[contest.campaign.slug]))
    assert resp["Location"] == reverse("quizzes:contest", args=[contest.pk])
    later = quiz_campaign(
        actor=tree.city_officer, organizer=tree.dingxi, slug="later", open_now=False
    )
    make_contest(actor=tree.city_officer, organizer=tree.dingxi, campaign=later, bank=False)
    assert len(contest_cards(None)) == 1
    assert Client().get(reverse("quizzes:campaign", args=["nope"])).status_code == 404
    quiz_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="no-contest-yet")
    resp = Client().get(reverse("quizzes:campaign", args=["no-contest-yet"]))
    assert resp.status_code == 404 and "知识竞赛还没有发布" in resp.content.decode()


# --- the officer's pages --------------------------------------------------------------------


def test_officer_index_lists_banks_contests_and_campaigns_awaiting_one(
    tree: Tree, contest: Contest, django_assert_num_queries: Any
) -> None:
    """The city officer sees 定西市's bank with its count and the contest; a campaign with a
    quiz phase and no contest offers to set one up, in a fixed number of queries; a worker is
    not an officer (404)."""
    quiz_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="no-contest")
    client = _client(tree.city_officer)
    with django_assert_num_queries(8):
        resp = client.get(reverse("quizzes:officer"))
    html = resp.content.decode()
    assert "定西市总工会" in html and "10 道题" in html and contest.title in html
    assert [c.slug for c in resp.context["awaiting"]] == ["no-contest"]
    second = quiz_campaign(actor=tree.city_officer, organizer=tree.tongwei, slug="tongwei")
    make_contest(actor=tree.city_officer, organizer=tree.tongwei, campaign=second)
    with django_assert_num_queries(8):
        assert len(client.get(reverse("quizzes:officer")).context["contests"]) == 2
    worker = _client(member_of(tree.courier))
    assert worker.get(reverse("quizzes:officer")).status_code == 404


def test_bank_lists_questions_in_few_queries_and_only_in_scope(
    tree: Tree, contest: Contest, django_assert_num_queries: Any
) -> None:
    """The bank page lists the questions with answers for the officer, filtered by category;
    its query count is fixed; 东营市's officer gets 404 for 定西市's bank."""
    client = _client(tree.city_officer)
    url = reverse("quizzes:bank", args=[tree.dingxi.pk])
    with django_assert_num_queries(7):
        resp = client.get(url)
    assert len(resp.context["page"].object_list) == 10
    assert client.get(url, {"category": "安全生产"}).context["page"].paginator.count == 0
    other = _client(tree.other_officer)
    assert other.get(url).status_code == 404
    q = Question.objects.filter(organization=tree.dingxi).first()
    assert q is not None
    assert other.get(reverse("quizzes:question_edit", args=[q.pk])).status_code == 404
    assert other.get(reverse("quizzes:bank_import", args=[tree.dingxi.pk])).status_code == 404
    assert other.get(reverse("quizzes:bank_export", args=[tree.dingxi.pk])).status_code == 404


def test_editing_a_drawn_question_makes_a_new_version(
    tree: Tree, contest: Contest, worker: User
) -> None:
    """Edited after it was drawn, a question gets version 2; the paper keeps version 1."""
    attempt = services.attempt_start(contest=contest, worker=worker)
    item = AttemptItem.objects.filter(attempt=attempt).select_related("version").first()
    assert item is not None
    q = item.version.question
    client = _client(tree.city_officer)
    url = reverse("quizzes:question_edit", args=[q.pk])
    data = {
        "kind": q.kind,
        "stem": q.stem + "（修订）",
        "answer": q.answer,
        "difficulty": q.difficulty,
        "category": q.category,
        "explanation": "新的解析",
    }
    for letter, text in zip("abcdef", q.options, strict=False):
        data[f"option_{letter}"] = text
    resp = client.post(url, data)
    assert resp.status_code == 302, resp.content.decode()
    q.refresh_from_db()
    assert q.current_version is not None and q.current_version.number == 2
    item.refresh_from_db()
    assert item.version.number == 1 and not item.version.stem.endswith("（修订）")


def test_new_question_form_shows_the_services_errors(tree: Tree) -> None:
    """A single-choice question whose answer names a missing option is refused on the form."""
    client = _client(tree.city_officer)
    resp = client.post(
        reverse("quizzes:question_new", args=[tree.dingxi.pk]),
        {
            "kind": "single",
            "stem": "工会会员大会的职权？",
            "option_a": "甲",
            "option_b": "乙",
            "answer": "D",
            "difficulty": "easy",
        },
    )
    assert resp.status_code == 200 and resp.context["form"].errors
    assert not Question.objects.filter(organization=tree.dingxi).exists()
    resp = client.post(
        reverse("quizzes:question_new", args=[tree.dingxi.pk]),
        {
            "kind": "true_false",
            "stem": "工会是职工自愿结合的群众组织。",
            "answer": "对",
            "difficulty": "easy",
        },
    )
    assert resp.status_code == 302
    assert Question.objects.get(organization=tree.dingxi).options == ["正确", "错误"]


def test_import_lists_every_error_and_imports_nothing(tree: Tree) -> None:
    """A file with a wrong answer letter and a wrong type imports nothing and lists both with
    row, column and reason; a clean file then imports all its rows."""
    client = _client(tree.city_officer)
    url = reverse("quizzes:bank_import", args=[tree.dingxi.pk])
    bad = questions_file(
        [
            row(stem="第一题？", answer="E"),
            row(kind="填空", stem="第二题？"),
            row(stem="第三题？"),
        ]
    )
    resp = client.post(url, {"file": bad})
    assert resp.status_code == 200
    errors = resp.context["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "I（答案）"), (3, "A（题型）")]
    html = resp.content.decode()
    assert html.count('data-testid="import-error"') == 2 and "未导入任何题目" in html
    assert not Question.objects.filter(organization=tree.dingxi).exists()
    good = questions_file([row(stem="第一题？"), [], row(stem="第二题？", answer="Ａ")])
    resp = client.post(url, {"file": good})
    assert resp.status_code == 302
    assert Question.objects.filter(organization=tree.dingxi).count() == 2


def test_template_and_export_download_as_xlsx_and_csv(tree: Tree, contest: Contest) -> None:
    """The template and the bank's export come as .xlsx with the template's columns, or CSV."""
    client = _client(tree.city_officer)
    tpl = client.get(reverse("quizzes:template"))
    assert tpl["Content-Type"].startswith("application/vnd.openxmlformats")
    header = next(load_workbook(io.BytesIO(tpl.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert header[:3] == ("题型", "题干", "选项A")
    export = client.get(reverse("quizzes:bank_export", args=[tree.dingxi.pk]))
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert len([r for r in rows[1:] if any(r)]) == 10
    csv = client.get(reverse("quizzes:bank_export", args=[tree.dingxi.pk]), {"fmt": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    assert "题型" in csv.content.decode("utf-8-sig")


def test_contest_settings_form_updates_through_the_service(tree: Tree, contest: Contest) -> None:
    """The officer changes the time limit, tries and rules; rules the bank cannot fill are
    refused with the reason; 东营市's officer gets 404."""
    client = _client(tree.city_officer)
    url = reverse("quizzes:contest_settings", args=[contest.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = {
        "title": "新名称",
        "description": "",
        "time_limit_s": "300",
        "grace_s": "20",
        "tries_per_day": "2",
        "counted": "best",
        "pass_score": "60",
        "partial_credit": "proportional",
        "reveal": "after_submit",
        "certificate": "finished",
        "rules-TOTAL_FORMS": "2",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "20",
        "rules-0-category": "",
        "rules-0-difficulty": "",
        "rules-0-count": "4",
        "rules-0-points": "25",
        "rules-1-category": "",
        "rules-1-difficulty": "",
        "rules-1-count": "",
        "rules-1-points": "",
    }
    assert client.post(url, data).status_code == 302
    contest.refresh_from_db()
    assert (contest.title, contest.time_limit_s, contest.tries_per_day) == ("新名称", 300, 2)
    assert contest.max_score == 100
    resp = client.post(url, data | {"rules-0-count": "50"})
    assert resp.status_code == 200 and "题库中只有 10 道" in resp.content.decode()
    assert _client(tree.other_officer).get(url).status_code == 404


def test_officer_creates_a_contest_for_a_campaign(tree: Tree, contest: Contest) -> None:
    """From a campaign with a quiz phase the officer sets up its contest."""
    campaign = quiz_campaign(actor=tree.city_officer, organizer=tree.dingxi, slug="another")
    client = _client(tree.city_officer)
    url = reverse("quizzes:contest_new", args=[campaign.pk])
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "title": "第二场竞赛",
        "time_limit_s": "600",
        "grace_s": "30",
        "tries_per_day": "3",
        "counted": "best",
        "pass_score": "60",
        "partial_credit": "all_or_nothing",
        "reveal": "after_submit",
        "certificate": "passed",
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-0-count": "5",
        "rules-0-points": "20",
    }
    resp = client.post(url, data)
    created = Contest.objects.get(campaign=campaign)
    assert resp["Location"] == reverse("quizzes:contest_settings", args=[created.pk])
    assert _client(tree.other_officer).get(url).status_code == 404


def test_results_by_organization_in_scope_with_xlsx(
    tree: Tree, contest: Contest, worker: User, django_assert_num_queries: Any
) -> None:
    """The city officer sees participants, passes and averages per organization of the
    subtree, and downloads the same as .xlsx; the query count is fixed; 东营市's officer
    gets 404."""
    _finish(contest, worker, right=True)
    _finish(contest, member_of(tree.tongwei), right=False)
    client = _client(tree.city_officer)
    url = reverse("quizzes:results", args=[contest.pk])
    with django_assert_num_queries(8):
        resp = client.get(url)
    rows = {r.organization.name: (r.participants, r.passed) for r in resp.context["rows"]}
    assert rows == {"安定区快递行业工会联合会": (1, 1), "通渭县总工会": (1, 0)}
    xlsx = client.get(reverse("quizzes:results_xlsx", args=[contest.pk]))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert sheet[0][0] == "组织" and len(sheet) == 3
    other = _client(tree.other_officer)
    assert other.get(url).status_code == 404
    assert other.get(reverse("quizzes:results_xlsx", args=[contest.pk])).status_code == 404
