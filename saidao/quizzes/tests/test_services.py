from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection

from saidao.campaigns.errors import OutsideCampaignScope, PhaseClosed
from saidao.campaigns.models import Phase
from saidao.campaigns.services import phase_override
from saidao.certificates.models import Certificate
from saidao.conftest import Tree
from saidao.core import clock as core_clock
from saidao.core.errors import InvalidInput, NotFound, OutsideScope
from saidao.leaderboards.models import ParticipationEvent
from saidao.quizzes import selectors, services
from saidao.quizzes.errors import (
    AttemptClosed,
    DuplicateQuestion,
    NotInPaper,
    NoTriesLeft,
    StaleSequence,
    TimeUp,
)
from saidao.quizzes.models import Attempt, AttemptItem, Contest, ContestResult, Question
from saidao.quizzes.services import RuleSpec

from .conftest import Clock
from .factories import answer_all, make_bank, make_contest, member_of, quiz_campaign

pytestmark = pytest.mark.django_db


def test_question_edit_after_use_makes_a_new_version_and_old_papers_keep_theirs(tree: Tree) -> None:
    """Editing a drawn question creates version 2; the attempt still shows version 1."""
    contest = make_contest(
        actor=tree.city_officer, organizer=tree.dingxi, rules=[RuleSpec(count=10, points=10)]
    )
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    item = attempt.items.select_related("version__question").first()
    assert item is not None
    question = item.version.question
    old_stem = question.stem
    services.question_update(
        actor=tree.city_officer,
        question=question,
        kind=question.kind,
        stem="改过的题干？",
        options=question.options,
        answer=question.answer,
        category=question.category,
        difficulty=question.difficulty,
    )
    question.refresh_from_db()
    assert question.current_version is not None
    assert question.current_version.number == 2
    item.refresh_from_db()
    assert item.version.number == 1 and item.version.stem == old_stem
    paper = selectors.attempt_paper(attempt=attempt)
    assert old_stem in [q.stem for q in paper.questions]


def test_question_edit_before_use_corrects_the_version_in_place(tree: Tree) -> None:
    """An unused question keeps version 1 when corrected."""
    (q, *_rest) = make_bank(actor=tree.city_officer, organization=tree.dingxi, singles=1)
    services.question_update(
        actor=tree.city_officer,
        question=q,
        kind=q.kind,
        stem="新题干",
        options=q.options,
        answer="B",
        category=q.category,
        difficulty=q.difficulty,
    )
    q.refresh_from_db()
    assert q.versions.count() == 1
    assert q.current_version is not None and q.current_version.answer == "B"


def test_question_create_refuses_duplicates_and_outsiders(tree: Tree) -> None:
    """The same stem (however punctuated) is refused; an officer outside the bank is refused."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi, singles=1, multiples=0, judges=0)
    stem = Question.objects.get().stem
    with pytest.raises(DuplicateQuestion):
        services.question_create(
            actor=tree.city_officer,
            organization=tree.dingxi,
            kind="single",
            stem=f"  {stem.replace('？', '?')} ",
            options=["a", "b"],
            answer="A",
        )
    with pytest.raises(OutsideScope):
        services.question_create(
            actor=tree.other_officer,
            organization=tree.dingxi,
            kind="single",
            stem="别的题",
            options=["a", "b"],
            answer="A",
        )


def test_question_create_normalizes_answers_and_checks_them(tree: Tree) -> None:
    """Answers like "a、c" become "AC"; a letter without an option is refused."""
    q = services.question_create(
        actor=tree.city_officer,
        organization=tree.dingxi,
        kind="multiple",
        stem="多选题",
        options=["甲", "乙", "丙"],
        answer="ｃ、a",
    )
    assert q.answer == "AC"
    with pytest.raises(InvalidInput) as exc:
        services.question_create(
            actor=tree.city_officer,
            organization=tree.dingxi,
            kind="single",
            stem="单选题",
            options=["甲", "乙"],
            answer="D",
        )
    assert "answer" in exc.value.detail["fields"]


def test_paper_is_drawn_least_used_first_and_counters_grow(tree: Tree) -> None:
    """Questions used less are drawn before questions used more; each draw counts."""
    contest = make_contest(
        actor=tree.city_officer, organizer=tree.dingxi, rules=[RuleSpec(count=5, points=20)]
    )
    used = list(Question.objects.order_by("pk")[:5])
    Question.objects.filter(pk__in=[q.pk for q in used]).update(times_used=3)
    attempt = services.attempt_start(contest=contest, worker=member_of(tree.anding))
    drawn = set(attempt.items.values_list("version__question_id", flat=True))
    assert drawn.isdisjoint({q.pk for q in used})
    services.question_usage_write()
    assert set(Question.objects.filter(pk__in=drawn).values_list("times_used", flat=True)) == {1}


def test_paper_follows_category_and_difficulty_rules(tree: Tree) -> None:
    """A rule for multiple-choice questions of one category draws only those."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi)
    Question.objects.filter(kind="multiple").update(category="多选类")
    contest = make_contest(
        actor=tree.city_officer,
        organizer=tree.dingxi,
        bank=False,
        rules=[RuleSpec(count=2, points=30, category="多选类"), RuleSpec(count=3, points=10)],
    )
    attempt = services.attempt_start(contest=contest, worker=member_of(tree.anding))
    items = list(attempt.items.select_related("version"))
    assert sorted(i.points for i in items) == [10, 10, 10, 30, 30]
    assert {i.version.kind for i in items if i.points == 30} == {"multiple"}
    assert attempt.max_score == 90


def test_rules_the_bank_cannot_fill_are_refused(tree: Tree) -> None:
    """Asking for more questions than the bank holds is a clear field error."""
    with pytest.raises(InvalidInput) as exc:
        make_contest(
            actor=tree.city_officer, organizer=tree.dingxi, rules=[RuleSpec(count=50, points=2)]
        )
    assert "rules" in exc.value.detail["fields"]


def test_paper_and_option_order_are_stored_and_stable(tree: Tree) -> None:
    """Starting again while in progress returns the same attempt, paper and deadline."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    first = services.attempt_start(contest=contest, worker=worker)
    paper = selectors.attempt_paper(attempt=first)
    again = services.attempt_start(contest=contest, worker=worker)
    assert again.pk == first.pk and again.deadline == first.deadline
    assert selectors.attempt_paper(attempt=again).questions == paper.questions


def test_reload_mid_attempt_gives_same_paper_answers_and_time_left(
    tree: Tree, clock: Clock
) -> None:
    """After answering and a minute passing, the paper comes back with answers and less time."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, time_limit_s=600)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="B", seq=1)
    clock.advance(seconds=60)
    resumed = services.attempt_start(contest=contest, worker=worker)
    paper = selectors.attempt_paper(attempt=resumed)
    assert resumed.pk == attempt.pk
    assert paper.questions[0].chosen == "B"
    assert 530 <= paper.seconds_left <= 540
    assert paper.seq == 1


def test_answers_are_graded_with_displayed_letters(tree: Tree) -> None:
    """Right answers (as displayed, options shuffled) score the points; wrong ones nothing."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, pass_score=60)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    seq = answer_all(attempt, worker, right=True)
    finished = services.attempt_submit(attempt=attempt, worker=worker, seq=seq)
    assert finished.score == 100 and finished.passed
    attempt2 = services.attempt_start(contest=contest, worker=worker)
    seq = answer_all(attempt2, worker, right=False)
    assert services.attempt_submit(attempt=attempt2, worker=worker, seq=seq).score == 0


def test_partial_credit_for_multiple_choice_when_the_contest_allows(tree: Tree) -> None:
    """All-or-nothing by default; proportional gives half for one of two right letters."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi, singles=0, multiples=2, judges=0)
    contest = make_contest(
        actor=tree.city_officer,
        organizer=tree.dingxi,
        rules=[RuleSpec(count=2, points=10)],
        bank=False,
    )
    worker = member_of(tree.anding)
    for rule, expected in ((Contest.PartialCredit.ALL_OR_NOTHING, 0), ("proportional", 10)):
        services.contest_update(actor=tree.city_officer, contest=contest, partial_credit=rule)
        attempt = services.attempt_start(contest=contest, worker=worker)
        for seq, item in enumerate(attempt.items.select_related("version"), 1):
            one = services.stored_to_displayed(item, item.version.answer[0])
            services.attempt_answer(
                attempt=attempt, worker=worker, position=item.position, choice=one, seq=seq
            )
        assert services.attempt_submit(attempt=attempt, worker=worker).score == expected


def test_submit_twice_changes_nothing(tree: Tree, clock: Clock) -> None:
    """A second submit returns the finished attempt unchanged (score, time, one event)."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    seq = answer_all(attempt, worker)
    first = services.attempt_submit(attempt=attempt, worker=worker, seq=seq)
    clock.advance(seconds=30)
    second = services.attempt_submit(attempt=attempt, worker=worker, seq=seq)
    assert (second.score, second.finished_at, second.elapsed_ms) == (
        first.score,
        first.finished_at,
        first.elapsed_ms,
    )
    assert ParticipationEvent.objects.filter(kind="quiz").count() == 1
    assert ContestResult.objects.get().tries == 1


def test_stale_sequence_is_refused_and_a_repeat_is_harmless(tree: Tree) -> None:
    """An older save is refused; the same save sent twice is accepted once; a submit older
    than the last save is refused and the attempt stays open."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=5)
    services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=5)
    with pytest.raises(StaleSequence):
        services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="B", seq=4)
    item = AttemptItem.objects.get(attempt=attempt, position=1)
    assert services.stored_to_displayed(item, item.response) == "A"
    with pytest.raises(StaleSequence):
        services.attempt_submit(attempt=attempt, worker=worker, seq=3)
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.IN_PROGRESS
    assert selectors.attempt_paper(attempt=attempt).seq == 5
    # Another question's save is stale too: the number is the attempt's, not the question's.
    with pytest.raises(StaleSequence):
        services.attempt_answer(attempt=attempt, worker=worker, position=2, choice="A", seq=5)


def test_a_save_for_an_attempt_deleted_meanwhile_is_not_found(tree: Tree) -> None:
    """The paper is cached for saves; when its attempt is gone (its contest removed), a save
    writes nothing and answers 404, however fresh the cache."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=1)
    Attempt.objects.filter(pk=attempt.pk).delete()
    with pytest.raises(NotFound):
        services.attempt_answer(attempt=attempt, worker=worker, position=2, choice="A", seq=2)


def test_a_late_save_for_an_attempt_deleted_meanwhile_is_not_found(
    tree: Tree, clock: Clock
) -> None:
    """Past the deadline and grace too: the save looks the attempt up to say why it is refused,
    and a removed attempt is 404, not an error."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=1)
    Attempt.objects.filter(pk=attempt.pk).delete()
    clock.advance(seconds=contest.time_limit_s + contest.grace_s + 1)
    with pytest.raises(NotFound):
        services.attempt_answer(attempt=attempt, worker=worker, position=2, choice="A", seq=2)


@pytest.mark.django_db(transaction=True)
def test_a_save_during_a_submit_waits_and_is_refused(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save that arrives while the paper is being handed in waits for the hand-in, then is
    refused as closed: no answer is written after the score was counted (PostgreSQL: the
    save shares the attempt's row lock; SQLite: one writer)."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=1)
    scoring, release = threading.Event(), threading.Event()
    finish = services._finish

    def slow_finish(*args: object, **kwargs: object) -> None:
        finish(*args, **kwargs)  # type: ignore[arg-type]
        scoring.set()  # scored, its transaction still open
        release.wait(timeout=10)

    monkeypatch.setattr(services, "_finish", slow_finish)
    outcome: dict[str, object] = {}

    def run(name: str, work: object) -> None:
        try:
            outcome[name] = work()  # type: ignore[operator]
        except Exception as exc:
            outcome[name] = exc
        finally:
            connection.close()

    submit = threading.Thread(
        target=run,
        args=("submit", lambda: services.attempt_submit(attempt=attempt, worker=worker, seq=1)),
    )
    save = threading.Thread(
        target=run,
        args=(
            "save",
            lambda: services.attempt_answer(
                attempt=attempt, worker=worker, position=2, choice="A", seq=2
            ),
        ),
    )
    submit.start()
    try:
        assert scoring.wait(timeout=10)
        save.start()
        time.sleep(0.3)
        waited = save.is_alive()
    finally:
        release.set()
        submit.join(timeout=10)
        if save.ident is not None:
            save.join(timeout=10)
    assert waited  # for the hand-in
    assert isinstance(outcome["save"], AttemptClosed)
    assert AttemptItem.objects.get(attempt=attempt, position=2).response == ""
    attempt.refresh_from_db()
    assert attempt.status == Attempt.Status.SUBMITTED


def test_answers_for_questions_not_in_the_paper_are_refused(tree: Tree) -> None:
    """A position beyond the paper, or a letter beyond the options, is refused."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    with pytest.raises(NotInPaper):
        services.attempt_answer(attempt=attempt, worker=worker, position=99, choice="A", seq=1)
    with pytest.raises(InvalidInput):
        services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="F", seq=1)


def test_another_workers_attempt_is_not_found(tree: Tree) -> None:
    """A worker cannot answer or submit someone else's attempt, even once its owner's saves
    have cached its paper."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    owner = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=owner)
    # The owner's save keeps the paper in the process's cache: it must not serve another.
    services.attempt_answer(attempt=attempt, worker=owner, position=1, choice="A", seq=1)
    intruder = member_of(tree.anding)
    with pytest.raises(NotFound):
        services.attempt_answer(attempt=attempt, worker=intruder, position=1, choice="A", seq=1)
    with pytest.raises(NotFound):
        services.attempt_submit(attempt=attempt, worker=intruder)


def test_submit_after_deadline_plus_grace_is_refused(tree: Tree, clock: Clock) -> None:
    """Within the grace period a submit counts; after it, the submit and saves are refused."""
    contest = make_contest(
        actor=tree.city_officer, organizer=tree.dingxi, time_limit_s=60, grace_s=10
    )
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    clock.advance(seconds=71)
    with pytest.raises(TimeUp):
        services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=1)
    with pytest.raises(TimeUp) as exc:
        services.attempt_submit(attempt=attempt, worker=worker)
    assert "时间" in str(exc.value.message)
    other = member_of(tree.anding)
    late = services.attempt_start(contest=contest, worker=other)
    clock.advance(seconds=69)
    done = services.attempt_submit(attempt=late, worker=other)
    assert done.status == Attempt.Status.SUBMITTED and done.elapsed_ms == 60_000


def test_saves_to_a_finished_attempt_are_refused(tree: Tree) -> None:
    """Once submitted, an answer save is refused."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_submit(attempt=attempt, worker=worker)
    with pytest.raises(AttemptClosed):
        services.attempt_answer(attempt=attempt, worker=worker, position=1, choice="A", seq=9)


def test_fourth_try_on_a_three_tries_day_is_refused_and_after_midnight_allowed(
    tree: Tree, clock: Clock
) -> None:
    """Three tries on one Shanghai day; the fourth is refused at 23:59 and allowed at 00:00:30
    (which is 16:00 UTC)."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, tries_per_day=3)
    worker = member_of(tree.anding)
    evening = (
        core_clock.now()
        .astimezone(core_clock.SHANGHAI)
        .replace(hour=23, minute=50, second=0, microsecond=0)
    )
    clock.set(evening)
    for _i in range(3):
        attempt = services.attempt_start(contest=contest, worker=worker)
        services.attempt_submit(attempt=attempt, worker=worker)
    clock.set(evening + dt.timedelta(minutes=9))
    with pytest.raises(NoTriesLeft) as exc:
        services.attempt_start(contest=contest, worker=worker)
    assert exc.value.status == 429
    assert selectors.tries_today(contest=contest, worker=worker).left == 0
    clock.set(evening + dt.timedelta(minutes=10, seconds=30))
    assert selectors.tries_today(contest=contest, worker=worker).left == 3
    attempt = services.attempt_start(contest=contest, worker=worker)
    assert attempt.try_number == 1 and attempt.day == evening.date() + dt.timedelta(days=1)


def test_worker_outside_the_contest_scope_is_refused(tree: Tree) -> None:
    """A member of 东营 cannot start a 定西 contest; nor can someone with no membership."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    with pytest.raises(OutsideCampaignScope):
        services.attempt_start(contest=contest, worker=tree.dongying_member.user)
    with pytest.raises(OutsideCampaignScope):
        services.attempt_start(contest=contest, worker=tree.city_officer)
    assert not Attempt.objects.exists()


def test_closed_quiz_phase_refuses_with_a_clear_message(tree: Tree) -> None:
    """Before the quiz phase opens, a start says when it opens; forced closed says so."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi)
    campaign = quiz_campaign(actor=tree.city_officer, organizer=tree.dingxi, open_now=False)
    contest = make_contest(
        actor=tree.city_officer, organizer=tree.dingxi, campaign=campaign, bank=False
    )
    with pytest.raises(PhaseClosed) as exc:
        services.attempt_start(contest=contest, worker=member_of(tree.anding))
    assert "开放" in str(exc.value.message)
    phase = Phase.objects.get(campaign=campaign)
    phase_override(actor=tree.city_officer, phase=phase, override="closed", reason="暂停")
    with pytest.raises(PhaseClosed):
        services.attempt_start(contest=contest, worker=member_of(tree.anding))


def test_best_try_counts_by_default_and_last_when_set(tree: Tree) -> None:
    """The counted result is the best (score, then time); with "last" the latest."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    good = services.attempt_start(contest=contest, worker=worker)
    services.attempt_submit(attempt=good, worker=worker, seq=answer_all(good, worker))
    bad = services.attempt_start(contest=contest, worker=worker)
    services.attempt_submit(attempt=bad, worker=worker)
    result = ContestResult.objects.get()
    assert result.score == 100 and result.tries == 2 and result.attempt_id == good.pk
    services.contest_update(actor=tree.city_officer, contest=contest, counted="last")
    third = services.attempt_start(contest=contest, worker=worker)
    services.attempt_submit(attempt=third, worker=worker)
    result.refresh_from_db()
    assert result.score == 0 and result.attempt_id == third.pk


def test_finished_attempt_records_participation_with_org_and_zone(tree: Tree) -> None:
    """participation_record(kind="quiz", value=score) with the membership org and the zone."""
    from saidao.regions.models import Region

    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    city = Region.objects.get(code="621100")
    worker = member_of(tree.courier, city=city, province_id="620000")
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_submit(attempt=attempt, worker=worker, seq=answer_all(attempt, worker))
    event = ParticipationEvent.objects.get(kind="quiz")
    assert event.key == f"quiz-attempt:{attempt.pk}"
    assert (event.organization_id, event.zone_city_id, event.value) == (
        tree.courier.pk,
        "621100",
        100,
    )


def test_certificate_issued_once_to_passers(tree: Tree) -> None:
    """A pass issues one certificate per worker and contest; a failure issues none."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, pass_score=60)
    loser = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=loser)
    services.attempt_submit(attempt=attempt, worker=loser)
    assert not Certificate.objects.exists()
    winner = member_of(tree.anding)
    for _i in range(2):
        attempt = services.attempt_start(contest=contest, worker=winner)
        services.attempt_submit(attempt=attempt, worker=winner, seq=answer_all(attempt, winner))
    cert = Certificate.objects.get()
    assert cert.holder == winner and cert.source == f"quiz-contest:{contest.pk}:{winner.pk}"
    assert cert.event_name == contest.title and cert.issuer == tree.dingxi
    assert ["成绩", "100 分"] in [list(d) for d in cert.details]


def test_certificate_for_finishers_when_the_contest_says_so(tree: Tree) -> None:
    """With certificate="finished" a zero score still gets one."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, certificate="finished")
    worker = member_of(tree.anding)
    attempt = services.attempt_start(contest=contest, worker=worker)
    services.attempt_submit(attempt=attempt, worker=worker)
    assert Certificate.objects.filter(holder=worker).count() == 1


def test_standalone_contest_is_a_campaign_with_one_quiz_phase(tree: Tree) -> None:
    """contest_create_standalone makes the campaign, its single quiz phase and the contest."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi)
    now = core_clock.now()
    contest = services.contest_create_standalone(
        actor=tree.city_officer,
        organizer=tree.dingxi,
        slug="zhishi",
        title="工会法知识竞赛",
        starts_at=now,
        ends_at=now + dt.timedelta(days=7),
        rules=[RuleSpec(count=3, points=10)],
        tries_per_day=2,
    )
    phases = list(contest.campaign.phases.all())
    assert [(p.kind, p.quiz_open) for p in phases] == [("quiz", True)]
    assert contest.tries_per_day == 2 and contest.campaign.status == "published"


def test_contest_settings_are_validated_and_scoped(tree: Tree) -> None:
    """Bad settings are field errors; an officer outside the organizer is refused."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    with pytest.raises(InvalidInput) as exc:
        services.contest_update(
            actor=tree.city_officer, contest=contest, tries_per_day=0, counted="worst"
        )
    assert set(exc.value.detail["fields"]) == {"tries_per_day", "counted"}
    with pytest.raises(OutsideScope):
        services.contest_update(actor=tree.other_officer, contest=contest, title="x")
