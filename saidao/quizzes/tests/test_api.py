from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from saidao.accounts import token_cache
from saidao.accounts.models import ApiToken
from saidao.accounts.tests.factories import login_headers
from saidao.conftest import Tree
from saidao.quizzes import caches, selectors
from saidao.quizzes.models import Attempt, AttemptItem, Question, QuestionVersion
from saidao.quizzes.schemas import PaperOut
from saidao.quizzes.services import stored_to_displayed

from .conftest import Clock
from .factories import make_bank, make_contest, member_of, questions_file, row

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _post(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, body, content_type="application/json", headers=headers)


def _put(client: Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.put(url, json.dumps(body), content_type="application/json", headers=headers)


def test_paper_never_carries_answers_or_explanations_before_submit(
    client: Client, tree: Tree
) -> None:
    """Start and get return the paper without any correct answer or explanation; the result
    after submitting carries both."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    h = login_headers(client, worker)
    resp = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h)
    assert resp.status_code == 201, resp.content
    paper = resp.json()
    again = client.get(f"/api/v1/quiz/attempts/{paper['attempt_id']}", headers=h).json()
    for body in (paper, again):
        text = json.dumps(body, ensure_ascii=False)
        assert "解析" not in text and "answer" not in text and "correct" not in text
        assert set(body["questions"][0]) == {
            "position",
            "kind",
            "kind_label",
            "stem",
            "points",
            "options",
            "chosen",
        }
    resp = _post(client, f"/api/v1/quiz/attempts/{paper['attempt_id']}/submit", {"seq": 0}, h)
    assert resp.status_code == 200, resp.content
    result = resp.json()
    assert result["revealed"] is True
    assert all(q["correct"] and q["explanation"] for q in result["questions"])


def test_the_paper_json_is_what_its_schema_would_render(client: Client, tree: Tree) -> None:
    """The paper, written out by hand for speed, is exactly PaperOut's rendering of the same
    paper, with quotes, backslashes, new lines and markup in the text kept as they are."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    tricky = '引号"与反斜杠\\、换行\n和 </script><b>标记</b>'
    QuestionVersion.objects.update(stem=tricky)
    caches.clear()
    worker = member_of(tree.anding)
    h = login_headers(client, worker)
    resp = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    attempt = Attempt.objects.select_related("contest").get(pk=body["attempt_id"])
    paper = selectors.attempt_paper(attempt=attempt)
    paper.seconds_left = body["seconds_left"]  # a second may have passed
    expected = PaperOut.model_validate(paper, from_attributes=True).model_dump(mode="json")
    # The same instant; Django's encoder writes milliseconds, pydantic microseconds.
    deadline = dt.datetime.fromisoformat(body.pop("deadline"))
    assert abs(deadline - dt.datetime.fromisoformat(expected.pop("deadline"))) < dt.timedelta(
        milliseconds=1
    )
    assert body == expected
    assert body["questions"][0]["stem"] == tricky
    again = client.get(f"/api/v1/quiz/attempts/{attempt.pk}", headers=h).json()
    assert again["questions"] == body["questions"]


def test_an_answer_save_is_one_statement_and_a_revoked_token_stops_at_once(
    client: Client,
    tree: Tree,
    settings: Any,
    django_assert_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Embedded, the worker's token is looked up once and remembered, so a save is the one
    UPDATE; deleting the token (signing out everywhere) refuses the next save (401)."""
    settings.SAIDAO_TOKEN_CACHE = True
    token_cache.forget_all(others_too=False)
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    h = login_headers(client, worker)
    paper = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h).json()
    url = f"/api/v1/quiz/attempts/{paper['attempt_id']}/answers"
    assert _put(client, f"{url}/1", {"choice": "A", "seq": 1}, h).status_code == 200
    with django_assert_num_queries(1):
        assert _put(client, f"{url}/2", {"choice": "A", "seq": 2}, h).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        ApiToken.objects.filter(user=worker).delete()
    assert _put(client, f"{url}/3", {"choice": "A", "seq": 3}, h).status_code == 401
    token_cache.forget_all(others_too=False)


def test_take_a_contest_through_the_api(client: Client, tree: Tree, clock: Clock) -> None:
    """Start, save answers (a reload gives them back with less time), submit, see the score,
    rank, tries left and certificate."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    worker = member_of(tree.anding)
    h = login_headers(client, worker)
    paper = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h).json()
    attempt_id = paper["attempt_id"]
    seq = 0
    for item in AttemptItem.objects.filter(attempt_id=attempt_id).select_related("version"):
        seq += 1
        choice = stored_to_displayed(item, item.version.answer)
        resp = _put(
            client,
            f"/api/v1/quiz/attempts/{attempt_id}/answers/{item.position}",
            {"choice": list(choice), "seq": seq},
            h,
        )
        assert resp.status_code == 200, resp.content
        assert resp.json() == {"position": item.position, "chosen": choice, "seq": seq}
    clock.advance(seconds=30)
    reloaded = client.get(f"/api/v1/quiz/attempts/{attempt_id}", headers=h).json()
    assert [q["stem"] for q in reloaded["questions"]] == [q["stem"] for q in paper["questions"]]
    assert reloaded["seq"] == seq and all(q["chosen"] for q in reloaded["questions"])
    assert reloaded["seconds_left"] <= paper["seconds_left"] - 29
    result = _post(client, f"/api/v1/quiz/attempts/{attempt_id}/submit", {"seq": seq}, h).json()
    assert result["score"] == 100 and result["passed"] is True
    assert result["certificate_code"]
    me = client.get(f"/api/v1/quiz/contests/{contest.pk}/me", headers=h).json()
    assert me["tries_left"] == 2 and me["rank"] == 1 and me["best_score"] == 100
    board = client.get(f"/api/v1/quiz/contests/{contest.pk}/leaderboard").json()
    assert board["rows"][0]["score"] == 100 and board["me"] is None


def test_api_errors_have_the_project_shape(client: Client, tree: Tree, clock: Clock) -> None:
    """Stale seq, not in paper, time up, outside scope: {"code","message","detail"}."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, time_limit_s=60)
    worker = member_of(tree.anding)
    h = login_headers(client, worker)
    attempt_id = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h).json()[
        "attempt_id"
    ]
    url = f"/api/v1/quiz/attempts/{attempt_id}/answers"
    assert _put(client, f"{url}/1", {"choice": "A", "seq": 3}, h).status_code == 200
    resp = _put(client, f"{url}/2", {"choice": "A", "seq": 2}, h)
    assert resp.status_code == 409 and resp.json()["code"] == "stale_sequence"
    assert resp.json()["detail"] == {"seq": 3}
    resp = _put(client, f"{url}/42", {"choice": "A", "seq": 4}, h)
    assert resp.status_code == 400 and resp.json()["code"] == "not_in_paper"
    clock.advance(seconds=95)
    resp = _post(client, f"/api/v1/quiz/attempts/{attempt_id}/submit", {"seq": 3}, h)
    assert resp.status_code == 409
    assert set(resp.json()) == {"code", "message", "detail"} and resp.json()["code"] == "time_up"
    outsider = login_headers(client, tree.dongying_member.user)
    resp = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=outsider)
    assert resp.status_code == 403 and resp.json()["code"] == "outside_campaign_scope"
    other = login_headers(client, member_of(tree.anding))
    assert client.get(f"/api/v1/quiz/attempts/{attempt_id}", headers=other).status_code == 404


def test_fourth_try_is_429(client: Client, tree: Tree) -> None:
    """A three-tries day refuses the fourth start with no_tries_left."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi, tries_per_day=3)
    h = login_headers(client, member_of(tree.anding))
    for _i in range(3):
        aid = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h).json()[
            "attempt_id"
        ]
        _post(client, f"/api/v1/quiz/attempts/{aid}/submit", {}, h)
    resp = client.post(f"/api/v1/quiz/contests/{contest.pk}/attempts", headers=h)
    assert resp.status_code == 429 and resp.json()["code"] == "no_tries_left"


def test_officer_bank_crud_import_template_export(client: Client, tree: Tree) -> None:
    """An officer creates, edits, archives, imports and exports; errors come back per row."""
    h = login_headers(client, tree.city_officer)
    resp = _post(
        client,
        "/api/v1/quiz/questions",
        {
            "organization_id": tree.dingxi.pk,
            "kind": "multiple",
            "stem": "哪些是新就业形态？",
            "options": ["快递员", "网约车司机", "公务员"],
            "answer": "A，B",
        },
        h,
    )
    assert resp.status_code == 201, resp.content
    q = resp.json()
    assert q["answer"] == "AB" and q["version"] == 1
    resp = _put(
        client, f"/api/v1/quiz/questions/{q['id']}", {**q, "kind": "single", "answer": "A"}, h
    )
    assert resp.status_code == 200 and resp.json()["kind"] == "single"
    template = client.get("/api/v1/quiz/questions/template", headers=h)
    assert template["Content-Type"] == XLSX
    header = next(
        load_workbook(io.BytesIO(template.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert header[:3] == ("题型", "题干", "选项A") and header[-4:] == (
        "答案",
        "分类",
        "难度",
        "解析",
    )
    csv_template = client.get("/api/v1/quiz/questions/template?fmt=csv", headers=h)
    assert csv_template.content.decode("utf-8-sig").startswith("题型,题干,选项A")
    bad = questions_file([row(), row(stem="第二题", answer="E")])
    resp = client.post(
        "/api/v1/quiz/questions/import",
        {"file": bad, "organization": tree.dingxi.pk},
        headers=h,
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "question_import_invalid"
    assert body["detail"]["errors"] == [
        {"row": 3, "column": "I（答案）", "message": body["detail"]["errors"][0]["message"]}
    ]
    good = questions_file([row(), row(stem="第二题", answer="b")])
    resp = client.post(
        "/api/v1/quiz/questions/import",
        {"file": good, "organization": tree.dingxi.pk},
        headers=h,
    )
    assert resp.status_code == 201 and resp.json() == {"imported": 2}
    export = client.get(f"/api/v1/quiz/questions/export?organization={tree.dingxi.pk}", headers=h)
    rows = list(load_workbook(io.BytesIO(export.content)).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 4
    assert client.delete(f"/api/v1/quiz/questions/{q['id']}", headers=h).status_code == 204
    listed = client.get(f"/api/v1/quiz/questions?organization={tree.dingxi.pk}", headers=h).json()
    assert len(listed) == 2


def test_officers_outside_the_bank_get_404(client: Client, tree: Tree) -> None:
    """东营's officer can neither read nor import into 定西's bank."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi, singles=1, multiples=0, judges=0)
    q = Question.objects.get()
    h = login_headers(client, tree.other_officer)
    assert client.get(f"/api/v1/quiz/questions/{q.pk}", headers=h).status_code == 404
    resp = client.post(
        "/api/v1/quiz/questions/import",
        {"file": questions_file([row()]), "organization": tree.dingxi.pk},
        headers=h,
    )
    assert resp.status_code == 404
    worker = login_headers(client, member_of(tree.anding))
    assert client.get(f"/api/v1/quiz/questions/{q.pk}", headers=worker).status_code == 404


def test_contest_create_settings_and_results_xlsx(client: Client, tree: Tree) -> None:
    """An officer creates a contest, changes its settings; results by organization export."""
    make_bank(actor=tree.city_officer, organization=tree.dingxi)
    from .factories import quiz_campaign

    campaign = quiz_campaign(actor=tree.city_officer, organizer=tree.dingxi)
    h = login_headers(client, tree.city_officer)
    resp = _post(
        client,
        "/api/v1/quiz/contests",
        {
            "campaign": campaign.slug,
            "title": "定西职工知识竞赛",
            "rules": [{"count": 4, "points": 25}],
            "tries_per_day": 2,
        },
        h,
    )
    assert resp.status_code == 201, resp.content
    contest = resp.json()
    assert contest["max_score"] == 100 and contest["quiz_open"] is True
    resp = client.patch(
        f"/api/v1/quiz/contests/{contest['id']}",
        json.dumps({"pass_score": 80, "reveal": "never"}),
        content_type="application/json",
        headers=h,
    )
    assert resp.status_code == 200 and resp.json()["pass_score"] == 80
    worker = member_of(tree.courier)
    wh = login_headers(client, worker)
    aid = client.post(f"/api/v1/quiz/contests/{contest['id']}/attempts", headers=wh).json()[
        "attempt_id"
    ]
    result = _post(client, f"/api/v1/quiz/attempts/{aid}/submit", {}, wh).json()
    assert result["revealed"] is False and result["questions"][0]["correct"] is None
    rows = client.get(f"/api/v1/quiz/contests/{contest['id']}/results", headers=h).json()
    assert rows == [
        {
            "organization_id": tree.courier.pk,
            "organization": tree.courier.name,
            "participants": 1,
            "passed": 0,
            "pass_rate": 0.0,
            "average_score": 0.0,
            "best_score": 0,
        }
    ]
    xlsx = client.get(f"/api/v1/quiz/contests/{contest['id']}/results.xlsx", headers=h)
    assert xlsx["Content-Type"] == XLSX
    sheet = list(load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows(values_only=True))
    assert sheet[1][0] == tree.courier.name
    other = login_headers(client, tree.other_officer)
    assert (
        client.get(f"/api/v1/quiz/contests/{contest['id']}/results.xlsx", headers=other).status_code
        == 404
    )
    assert Attempt.objects.count() == 1
