from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client


@pytest.mark.django_db
def test_healthz_answers_200_with_database_state(client: Client) -> None:
    """GET /healthz is 200 and names the database vendor with ok=true."""
    resp = client.get("/healthz")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["database"]["vendor"] in {"sqlite", "postgresql"}


@pytest.mark.django_db
def test_healthz_answers_503_when_database_fails(client: Client) -> None:
    """When the database raises, /healthz says so with 503 instead of crashing."""
    with mock.patch("saidao.core.views.connection.cursor", side_effect=DatabaseError("down")):
        resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["database"]["ok"] is False


@pytest.mark.django_db
def test_home_page_is_chinese_by_default(client: Client) -> None:
    """The home page speaks Simplified Chinese unless the visitor picks English."""
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "让每名职工都有自己的“赛道”" in html
    assert "暂时还没有活动" in html


@pytest.mark.django_db
def test_home_page_in_english_when_chosen(client: Client) -> None:
    """Choosing English through the language switcher renders the pages in English."""
    resp = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = resp.content.decode()
    assert '<html lang="en">' in html
    assert "暂时还没有活动" not in html
    assert "No campaigns yet" in html


@pytest.mark.django_db
def test_privacy_notice_shows_its_version(client: Client) -> None:
    """The privacy notice page names the version workers consent to."""
    from django.conf import settings

    resp = client.get("/privacy/")
    assert settings.SAIDAO_PRIVACY_NOTICE_VERSION in resp.content.decode()


@pytest.mark.django_db
def test_english_browser_still_gets_chinese_until_it_chooses(client: Client) -> None:
    """An English Accept-Language does not switch the pages; the language switcher does."""
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-hans">' in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert '<html lang="en">' in html
