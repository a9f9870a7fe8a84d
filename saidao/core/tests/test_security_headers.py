"""Security headers: a Content-Security-Policy with a fresh nonce on every page and that nonce
on every inline script and style, no inline event handlers anywhere, ``no-store`` on what holds
personal data (and not on public cached answers), Permissions-Policy and Referrer-Policy, the
HTTPS settings, and `saidao check --deploy` clean under the documented production settings."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from saidao.accounts.services import api_token_issue
from saidao.campaigns.models import Campaign
from saidao.campaigns.tests.factories import live_phases, make_campaign
from saidao.conftest import Tree
from saidao.core.middleware import (
    PrivateCacheMiddleware,
    SecurityHeadersMiddleware,
    content_security_policy,
)
from saidao.leaderboards import live
from saidao.quizzes.models import Question
from saidao.quizzes.tests.factories import make_contest

PACKAGE = Path(__file__).resolve().parents[2]
# Script types that are data, not code (json_script): the policy does not apply to them.
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json"}


# --- helpers ------------------------------------------------------------------------------


def csp_of(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    out: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def nonce_of(response: Any) -> str:
    sources = csp_of(response)["script-src"]
    nonces = [s[len("'nonce-") : -1] for s in sources if s.startswith("'nonce-")]
    assert len(nonces) == 1, sources
    return nonces[0]


@dataclass
class PageCode:
    """What a page would run: its inline scripts and style elements (with their nonces), and
    the inline event handler attributes of any element."""

    inline: list[tuple[str, str | None]] = field(default_factory=list)
    external_nonces: list[str | None] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)


class _CodeParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.code = PageCode()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.code.handlers += [f"<{tag} {k}=…>" for k in a if k.startswith("on")]
        if tag == "script":
            if (a.get("type") or "").lower() in DATA_SCRIPT_TYPES:
                return
            if a.get("src"):
                self.code.external_nonces.append(a.get("nonce"))
            else:
                self.code.inline.append(("script", a.get("nonce")))
        elif tag == "style":
            self.code.inline.append(("style", a.get("nonce")))


def page_code(html: str) -> PageCode:
    parser = _CodeParser()
    parser.feed(html)
    return parser.code


def assert_page_runs_under_its_policy(response: Any) -> None:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    nonce = nonce_of(response)
    code = page_code(response.content.decode())
    assert code.handlers == []
    for kind, tag_nonce in code.inline:
        assert tag_nonce == nonce, f"an inline <{kind}> without this response's nonce"
    for tag_nonce in code.external_nonces:
        assert tag_nonce in (None, nonce)


def _ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<p>ok</p>")


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_live_state() -> None:
    live.reset()


@pytest.fixture
def campaign(tree: Tree) -> Campaign:
    return make_campaign(
        actor=tree.national_officer, organizer=tree.national, slug="live", phases=live_phases()
    )


# --- Content-Security-Policy --------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_has_a_policy_with_a_fresh_nonce(client: Client) -> None:
    """Two requests of the home page: each a Content-Security-Policy whose script-src is self and
    a nonce of its own, never the same twice; the fixed directives are all there."""
    first = client.get("/")
    second = client.get("/")
    a, b = nonce_of(first), nonce_of(second)
    assert a != b and len(a) >= 16
    csp = csp_of(first)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", f"'nonce-{a}'"]
    assert csp["style-src"] == ["'self'", f"'nonce-{a}'"]
    assert csp["style-src-attr"] == ["'unsafe-inline'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["media-src"] == ["'self'", "blob:"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    for directive in csp.values():
        assert "'unsafe-eval'" not in directive


@pytest.mark.django_db
def test_json_answers_carry_no_page_policy(client: Client) -> None:
    """The policy is for HTML pages: the health check's JSON goes without it."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


@pytest.mark.django_db
def test_public_pages_run_under_their_policy(client: Client, campaign: Campaign) -> None:
    """Home, log-in, sign-up, privacy, a campaign's page and its gallery: every inline script and
    style element carries the response's nonce, and no element has an inline event handler."""
    for url in [
        "/",
        reverse("accounts:login"),
        reverse("accounts:signup"),
        reverse("core:privacy"),
        reverse("campaigns:detail", args=[campaign.slug]),
        reverse("entries:gallery", args=[campaign.slug]),
    ]:
        assert_page_runs_under_its_policy(client.get(url))


@pytest.mark.django_db
def test_signed_in_pages_run_under_their_policy(
    client: Client, tree: Tree, campaign: Campaign
) -> None:
    """A worker's profile and upload page, the officer's dashboard, campaign list and review
    queue, the big screen and a quiz contest: the nonce on each inline script and style, no
    inline handlers, and the htmx script tagged with the nonce too."""
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    client.force_login(tree.anding_member.user)
    for url in [
        reverse("accounts:me"),
        reverse("entries:new", args=[campaign.slug]),
        reverse("quizzes:contest", args=[contest.pk]),
    ]:
        assert_page_runs_under_its_policy(client.get(url))
    client.force_login(tree.national_officer)
    for url in [
        reverse("officer:dashboard"),
        reverse("campaigns:officer_list"),
        reverse("entries:review"),
        reverse("leaderboards:screen", args=[campaign.pk]),
        reverse("leaderboards:mine", args=[campaign.pk]),
    ]:
        assert_page_runs_under_its_policy(client.get(url))
    response = client.get("/")
    nonce = nonce_of(response)
    assert re.search(
        rf'<script src="[^"]*htmx[^"]*" defer nonce="{nonce}">', response.content.decode()
    )


def _templates() -> Iterator[Path]:
    yield from sorted(PACKAGE.glob("*/templates/**/*.html"))


TAG = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)
START_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_no_template_has_inline_code_without_the_nonce() -> None:
    """In every template of every app: each <script> without src (and not a JSON data block) and
    each <style> carries nonce="{{ request.csp_nonce }}" (or csp_nonce), and no tag has an
    inline event handler (onclick=, onchange=, ...), which no nonce can let run."""
    found = list(_templates())
    assert len(found) > 30
    problems = []
    for path in found:
        text = path.read_text()
        name = path.relative_to(PACKAGE)
        for match in TAG.finditer(text):
            kind, attrs = match.group(1).lower(), match.group(2)
            if kind == "script" and re.search(r"\bsrc=", attrs):
                continue
            if kind == "script" and re.search(r'type="application/(ld\+)?json"', attrs):
                continue
            if not re.search(r'nonce="\{\{ *(request\.)?csp_nonce *\}\}"', attrs):
                problems.append(f"{name}: <{kind}{attrs}> without the nonce")
        for tag in START_TAG.findall(text):
            if HANDLER.search(tag):
                problems.append(f"{name}: inline handler in {tag[:80]}")
    assert problems == []


@pytest.mark.django_db
def test_extra_sources_come_from_settings_and_the_s3_endpoint(settings: Any) -> None:
    """Map tiles' hosts from SAIDAO_CSP_IMG_SRC / SAIDAO_CSP_CONNECT_SRC join img-src and
    connect-src; with a bucket behind an S3 endpoint, its origin joins img-src, media-src and
    connect-src (the browser PUTs upload parts there itself)."""
    settings.SAIDAO_CSP_IMG_SRC = ["https://*.tianditu.gov.cn"]
    settings.SAIDAO_CSP_CONNECT_SRC = ["https://api.tianditu.gov.cn"]
    settings.AWS_STORAGE_BUCKET_NAME = "saidao"
    settings.AWS_S3_ENDPOINT_URL = "https://oss-cn-beijing.aliyuncs.com/"
    header = content_security_policy("abc")
    csp = {p.split()[0]: p.split()[1:] for p in header.split("; ")}
    s3 = "https://oss-cn-beijing.aliyuncs.com"
    assert csp["img-src"] == ["'self'", "data:", "blob:", s3, "https://*.tianditu.gov.cn"]
    assert csp["media-src"] == ["'self'", "blob:", s3]
    assert csp["connect-src"] == ["'self'", s3, "https://api.tianditu.gov.cn"]
    settings.AWS_S3_ADDRESSING_STYLE = "virtual"
    assert "https://saidao.oss-cn-beijing.aliyuncs.com" in content_security_policy("abc")


def test_report_only_mode_sends_the_policy_under_the_report_only_header(
    rf: RequestFactory, settings: Any
) -> None:
    """SAIDAO_CSP_REPORT_ONLY: the same policy, reported but not enforced."""
    settings.SAIDAO_CSP_REPORT_ONLY = True
    response = SecurityHeadersMiddleware(_ok)(rf.get("/"))
    assert "Content-Security-Policy" not in response
    assert "script-src 'self' 'nonce-" in response["Content-Security-Policy-Report-Only"]


def test_svg_documents_may_run_nothing(rf: RequestFactory) -> None:
    """An SVG (an invite's QR code) opened by itself is a document: its policy allows no script."""
    response = SecurityHeadersMiddleware(
        lambda request: HttpResponse("<svg/>", content_type="image/svg+xml")
    )(rf.get("/orgs/invite/X/qr.svg"))
    assert response["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.django_db
def test_permissions_and_referrer_policies(client: Client) -> None:
    """A page may use no camera, microphone, geolocation or payment; pages and JSON alike tell
    other sites at most the origin a link came from, and are not sniffed."""
    policy = client.get("/")["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in policy
    for response in (client.get("/"), client.get("/healthz")):
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response["X-Content-Type-Options"] == "nosniff"


# --- Cache-Control ------------------------------------------------------------------------


@pytest.mark.django_db
def test_signed_in_pages_are_never_stored(client: Client, tree: Tree, campaign: Campaign) -> None:
    """Every page a logged-in worker or officer gets, however public the same page is to others
    (home, the campaign page), is ``private, no-store``."""
    client.force_login(tree.anding_member.user)
    for url in ["/", reverse("accounts:me"), reverse("campaigns:detail", args=[campaign.slug])]:
        assert client.get(url)["Cache-Control"] == "private, no-store", url
    client.force_login(tree.city_officer)
    response = client.get(reverse("officer:organization", args=[tree.dingxi.pk]))
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_a_login_is_not_stored(client: Client, tree: Tree) -> None:
    """The response to the log-in itself (the request was anonymous, the response is not), and
    the API's token answer to an anonymous request."""
    user = tree.anding_member.user
    user.set_password("Kuaidi-2026")
    user.save()
    response = client.post(
        reverse("accounts:login"), {"phone": user.phone, "password": "Kuaidi-2026"}
    )
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    response = Client().post(
        "/api/v1/auth/login",
        {"phone": user.phone, "password": "Kuaidi-2026"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_personal_pages_are_not_stored_even_for_anonymous_readers(client: Client) -> None:
    """The log-in and sign-up pages, and the API's me and members, asked without a login."""
    for url in [reverse("accounts:login"), reverse("accounts:signup"), "/api/v1/me"]:
        assert client.get(url)["Cache-Control"] == "private, no-store", url


@pytest.mark.django_db
def test_bearer_token_answers_are_not_stored(client: Client, tree: Tree) -> None:
    """An API answer to a request with a bearer token: private, no-store."""
    token = api_token_issue(user=tree.anding_member.user)
    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_public_leaderboard_reads_keep_their_caching(
    client: Client, tree: Tree, campaign: Campaign
) -> None:
    """An anonymous read of the public summary keeps ``public, max-age=2`` and its ETag; an
    officer's read of the same is ``private, no-store`` and still has the ETag for clients that
    revalidate themselves (304)."""
    url = f"/api/v1/campaigns/{campaign.pk}/leaderboard/summary"
    anonymous = client.get(url)
    assert anonymous.status_code == 200
    assert anonymous["Cache-Control"] == "public, max-age=2"
    assert anonymous["ETag"]
    client.force_login(tree.national_officer)
    officer = client.get(url)
    assert officer["Cache-Control"] == "private, no-store"
    again = client.get(url, HTTP_IF_NONE_MATCH=officer["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_public_pages_to_anonymous_readers_are_not_marked(
    client: Client, campaign: Campaign
) -> None:
    """The home, campaign and gallery pages asked anonymously get no no-store."""
    for url in [
        "/",
        reverse("campaigns:detail", args=[campaign.slug]),
        reverse("entries:gallery", args=[campaign.slug]),
    ]:
        assert "no-store" not in client.get(url).get("Cache-Control", ""), url


@pytest.mark.django_db
def test_static_files_and_public_media_keep_their_caching(
    client: Client, tree: Tree, settings: Any, tmp_path: Path
) -> None:
    """A static file and a campaign cover, even to a logged-in reader, keep their caching."""
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "campaigns" / "covers").mkdir(parents=True)
    (tmp_path / "campaigns" / "covers" / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    client.force_login(tree.anding_member.user)
    static = client.get(django_settings.STATIC_URL + "saidao/saidao.js")
    assert static.status_code == 200
    assert "no-store" not in static["Cache-Control"]
    cover = client.get("/media/campaigns/covers/c.png")
    assert cover.status_code == 200
    assert cover["Cache-Control"] == "public, max-age=3600"


def test_responses_already_not_stored_are_left_as_they_are(rf: RequestFactory) -> None:
    """A view's own ``no-store`` (the big screen's, never_cache's) stays exactly as set."""

    def view(request: HttpRequest) -> HttpResponse:
        response = HttpResponse("x")
        response["Cache-Control"] = "no-store"
        return response

    request = rf.get("/leaderboards/1/screen/")
    request.user = AnonymousUser()
    assert PrivateCacheMiddleware(view)(request)["Cache-Control"] == "no-store"


# --- HTTPS ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ssl_redirect_spares_the_health_check(settings: Any) -> None:
    """With SECURE_SSL_REDIRECT a plain-http page is sent to https, but /healthz still answers
    over http; behind a proxy that says https, the page is served with HSTS."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client()
    response = client.get("/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200
    secure = client.get("/", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"


def test_embedded_defaults_keep_plain_http_working() -> None:
    """Without configuration nothing redirects or pins https (tests, the bench, embedded)."""
    assert django_settings.SECURE_SSL_REDIRECT is False
    assert django_settings.SECURE_HSTS_SECONDS == 0
    assert django_settings.SECURE_PROXY_SSL_HEADER is None


def test_the_bench_serves_plain_http_whatever_the_shell_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`saidao bench` run on a production host: its throwaway servers do not inherit the
    redirect to https, which would answer every one of its plain-http requests with a 301."""
    from saidao.bench.site import child_env

    monkeypatch.setenv("SECURE_SSL_REDIRECT", "on")
    assert "SECURE_SSL_REDIRECT" not in child_env(tmp_path)


# The environment of a production deployment, as README documents it.
def production_env(var_dir: Path) -> dict[str, str]:
    return {
        "SAIDAO_VAR_DIR": str(var_dir),
        "DEBUG": "off",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "saidao.example.cn",
        "CSRF_TRUSTED_ORIGINS": "https://saidao.example.cn",
        "SECURE_SSL_REDIRECT": "on",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "on",
        "SECURE_HSTS_PRELOAD": "on",
        "SECURE_COOKIES": "on",
    }


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`saidao check --deploy` in a process of its own, with only ``env`` of Saidao's settings."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "SAIDAO_", "AWS_", "DJANGO_"))
        and k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, "-m", "saidao", "check", "--deploy", "--fail-level", "WARNING"],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_production_settings(tmp_path: Path) -> None:
    """The documented production environment passes `saidao check --deploy` without a warning."""
    result = check_deploy(production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_without_them(tmp_path: Path) -> None:
    """Without the HTTPS settings the same check fails, naming what is missing."""
    env = production_env(tmp_path)
    for name in [
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_COOKIES",
    ]:
        del env[name]
    result = check_deploy(env)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in out, out


def test_bad_security_settings_stop_the_start(tmp_path: Path) -> None:
    """A CSP source that would end its directive, or a malformed proxy header, is refused at
    start with the variable's name."""
    env = production_env(tmp_path) | {"SAIDAO_CSP_IMG_SRC": "https://a.cn; script-src *"}
    result = check_deploy(env)
    assert result.returncode != 0 and "SAIDAO_CSP_IMG_SRC" in result.stderr
    env = production_env(tmp_path) | {"SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto"}
    result = check_deploy(env)
    assert result.returncode != 0 and "SECURE_PROXY_SSL_HEADER" in result.stderr


# --- in a real browser ----------------------------------------------------------------------

WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@dataclass
class Watched:
    page: Page
    errors: list[str]

    def visit(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.page.wait_for_timeout(400)  # deferred scripts, htmx's start, the first swaps
        self.check(url)

    def check(self, where: str) -> None:
        violations = self.page.evaluate("window.__violations || []")
        assert violations == [], f"{where}: {violations}"
        assert self.errors == [], f"{where}: {self.errors}"


def _watched(context: BrowserContext) -> Watched:
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # The browser's own favicon request is not a page's doing (there is no favicon).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return Watched(page=page, errors=errors)


def _signed_in(browser: Browser, live_server: Any, user: Any) -> BrowserContext:
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN"
    )
    context.set_default_timeout(15_000)
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_key_pages_run_without_a_policy_violation(
    live_server: Any, tree: Tree, browser: Browser
) -> None:
    """In Chromium with the policy enforced: home, log-in, a campaign page, its upload page, a
    quiz and an attempt, the officer's dashboard and the big screen (its stream connected), a
    question's page, the API's docs: no securitypolicyviolation event, no console error; the
    language switcher, the attempt's and big screen's scripts and a confirmation still work."""
    campaign = make_campaign(
        actor=tree.national_officer, organizer=tree.national, slug="live", phases=live_phases()
    )
    contest = make_contest(actor=tree.city_officer, organizer=tree.dingxi)
    base = live_server.url

    anonymous = browser.new_context(locale="zh-CN")
    w = _watched(anonymous)
    for path in ["/", reverse("accounts:login"), "/api/v1/docs", "/admin/login/"]:
        w.visit(base + path)
    w.visit(base + reverse("accounts:login"))
    w.page.select_option("#lang-select", "en")  # data-autosubmit, no inline handler
    expect(w.page.locator("html")).to_have_attribute("lang", "en")
    w.check("language switch")
    anonymous.close()

    worker = _signed_in(browser, live_server, tree.anding_member.user)
    w = _watched(worker)
    w.visit(base + reverse("campaigns:detail", args=[campaign.slug]))
    w.visit(base + reverse("entries:new", args=[campaign.slug]))
    expect(w.page.locator("[data-saidao-uploader]")).to_have_count(1)
    w.visit(base + reverse("quizzes:contest", args=[contest.pk]))
    w.page.get_by_test_id("start").click()
    expect(w.page.get_by_test_id("progress")).to_have_text("1/5")  # attempt.js ran
    w.check("attempt")
    worker.close()

    officer = _signed_in(browser, live_server, tree.national_officer)
    w = _watched(officer)
    w.visit(base + reverse("officer:dashboard"))
    w.visit(base + reverse("leaderboards:screen", args=[campaign.pk]))
    expect(w.page.locator("[data-role=live].on")).to_have_count(1)  # screen.js, its stream
    w.check("big screen")
    officer.close()

    # A form that asks first (data-confirm, once an onsubmit handler): no means no.
    question = Question.objects.filter(organization=tree.dingxi).order_by("pk").first()
    assert question is not None
    bank_officer = _signed_in(browser, live_server, tree.city_officer)
    w = _watched(bank_officer)
    w.visit(base + reverse("quizzes:question_edit", args=[question.pk]))
    w.page.once("dialog", lambda dialog: dialog.dismiss())
    w.page.get_by_role("button", name="停用这道题").click()
    w.page.wait_for_timeout(300)
    question.refresh_from_db()
    assert question.archived_at is None
    w.page.once("dialog", lambda dialog: dialog.accept())
    with w.page.expect_navigation():
        w.page.get_by_role("button", name="停用这道题").click()
    question.refresh_from_db()
    assert question.archived_at is not None
    w.check("question archived")
    bank_officer.close()
